package dist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// Sequenced streams: a source sends []any{:msg, i} for i = 1, 2, ...; a
// sink checks that the numbers it gets only grow. Across a disconnect
// delivery is at most once: a run of numbers may be missing (a gap), but
// none may come twice or out of order.

var (
	atomReport    = proc.Atom("report")
	atomSeqReport = proc.Atom("seqreport")
	atomStop      = proc.Atom("stop")
	atomStopped   = proc.Atom("stopped")
)

// seqOf reads i from a stream message []any{:msg, i}.
func seqOf(m any) (int, bool) {
	t, ok := m.([]any)
	if !ok || len(t) != 2 || t[0] != atomMsg {
		return 0, false
	}
	switch i := t[1].(type) {
	case int64:
		return int(i), true
	case int:
		return i, true
	}
	return 0, false
}

// asInt reads a number that may have crossed the wire.
func asInt(v any) int {
	switch i := v.(type) {
	case int64:
		return int(i)
	case int:
		return i
	}
	return -1
}

// seqCheck is a sink's account of the numbers it got.
type seqCheck struct {
	received int      // messages taken
	last     int      // the highest number taken
	bad      int      // numbers not above the one before: duplicated or reordered
	first    string   // the first bad one
	gaps     int      // runs of numbers missing
	gapList  []string // the first few runs, "from-to"
}

func (s *seqCheck) add(i int) {
	s.received++
	if i <= s.last {
		s.bad++
		if s.first == "" {
			s.first = fmt.Sprintf("got %d after %d (duplicated or reordered)", i, s.last)
		}
		return
	}
	if i > s.last+1 {
		s.gaps++
		if len(s.gapList) < 8 {
			s.gapList = append(s.gapList, fmt.Sprintf("%d-%d", s.last+1, i-1))
		}
	}
	s.last = i
}

// seqReport is what a sink answers to []any{:report, replyTo, final}.
type seqReport struct {
	Sink                      proc.Pid
	Received, Last, Bad, Gaps int
	First, GapList            string
}

func (r seqReport) String() string {
	return fmt.Sprintf("received %d, last %d, %d gaps [%s], %d duplicated or reordered %s",
		r.Received, r.Last, r.Gaps, r.GapList, r.Bad, r.First)
}

// seqSinkLoop is a sink: it checks the stream messages it gets and answers
// reports; a final report ends it.
func seqSinkLoop(ctx context.Context, p *proc.Process) error {
	var s seqCheck
	for {
		m, err := p.Receive(ctx)
		if err != nil {
			return err
		}
		if i, ok := seqOf(m); ok {
			s.add(i)
			continue
		}
		t, ok := m.([]any)
		if !ok || len(t) != 3 || t[0] != atomReport {
			continue
		}
		to, _ := t[1].(proc.Pid)
		_ = p.Send(to, []any{atomSeqReport, p.Pid(), s.received, s.last, s.bad, s.gaps, s.first, strings.Join(s.gapList, " ")})
		if t[2] == true {
			return nil
		}
	}
}

// askSeqReport asks sink for its report, as me; final ends the sink.
func askSeqReport(t testing.TB, me *proc.Process, sink proc.Pid, final bool) seqReport {
	t.Helper()
	if err := me.Send(sink, []any{atomReport, me.Pid(), final}); err != nil {
		t.Fatalf("asking %v for its report: %v", sink, err)
	}
	m, err := me.ReceiveMatchTimeout(reportWait, func(m any) bool {
		r, ok := m.([]any)
		return ok && len(r) == 8 && r[0] == atomSeqReport && r[1] == sink
	})
	if err != nil {
		t.Fatalf("no report from sink %v: %v", sink, err)
	}
	r := m.([]any)
	first, _ := r[6].(string)
	gaps, _ := r[7].(string)
	return seqReport{Sink: sink, Received: asInt(r[2]), Last: asInt(r[3]), Bad: asInt(r[4]), Gaps: asInt(r[5]), First: first, GapList: gaps}
}

// reportWait bounds the wait for a sink's report. The request queues
// behind every message already sent to the sink (in the sender's queue,
// the socket buffers and the sink's mailbox): after a stream without
// pause that can be a few hundred thousand messages, which a peer under
// -race on a loaded 2-core machine takes well over waitTime to work
// through (TestFaultStopCont/loaded timed out so once).
const reportWait = 4 * waitTime

// waitSeqReport asks sink for reports until cond holds, and returns the
// report that met it.
func waitSeqReport(t testing.TB, me *proc.Process, sink proc.Pid, what string, cond func(seqReport) bool) seqReport {
	t.Helper()
	deadline := time.Now().Add(reportWait)
	for {
		r := askSeqReport(t, me, sink, false)
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: sink %v", what, r)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition under a deadline
	}
}

// seqSourceLoop is a source: it sends to `to` the stream 1, 2, ..., batch
// messages at a time with a pause between batches (0: none), until it
// gets []any{:stop, replyTo}; it answers []any{:stopped, last, failed},
// failed the sends that returned an error. sent, if not nil, counts.
func seqSourceLoop(p *proc.Process, to proc.Pid, batch int, pause time.Duration, sent *atomic.Int64) error {
	i, failed := 0, 0
	for {
		for range batch {
			i++
			if err := p.Send(to, []any{atomMsg, int64(i)}); err != nil {
				failed++
			}
		}
		if sent != nil {
			sent.Store(int64(i))
		}
		m, err := p.ReceiveTimeout(pause)
		if err != nil {
			if errors.Is(err, proc.ErrTimeout) {
				continue
			}
			return err
		}
		if t, ok := m.([]any); ok && len(t) == 2 && t[0] == atomStop {
			replyTo, _ := t[1].(proc.Pid)
			return p.Send(replyTo, []any{atomStopped, p.Pid(), int64(i), int64(failed)})
		}
	}
}

// stopSource stops a source and returns the last number it sent and how
// many sends failed.
func stopSource(t testing.TB, me *proc.Process, src proc.Pid) (last, failed int) {
	t.Helper()
	if err := me.Send(src, []any{atomStop, me.Pid()}); err != nil {
		t.Fatalf("stopping source %v: %v", src, err)
	}
	m, err := me.ReceiveMatchTimeout(waitTime, func(m any) bool {
		r, ok := m.([]any)
		return ok && len(r) == 4 && r[0] == atomStopped && r[1] == src
	})
	if err != nil {
		t.Fatalf("source %v did not stop: %v", src, err)
	}
	r := m.([]any)
	return asInt(r[2]), asInt(r[3])
}
