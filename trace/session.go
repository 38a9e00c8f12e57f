package trace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/proc"
)

// Show selects the events of a process trace; 0 shows them all.
type Show uint8

const (
	Sends    Show = 1 << iota // messages the process sends
	Receives                  // messages put in its mailbox
	Exits                     // its exit
)

// Default rate limit, as recon_trace is told {Max, Time}: more events
// than this within the period stop the trace.
const (
	DefaultMax = 100
	DefaultPer = time.Second
)

// Options set up one trace.
type Options struct {
	// Max and Per are the rate limit: when more than Max events come
	// within Per the trace stops itself and says so (recon_trace's
	// {Max, Time}); Per 0 stops it after Max events in all (recon_trace's
	// plain Max). Max 0: DefaultMax per DefaultPer.
	Max int
	Per time.Duration
	// Show selects the events of a process trace (0: all).
	Show Show
	// HideNames hides, from a trace of node traffic, the messages sent
	// to these registered names: the cluster services' own chatter.
	HideNames []string
	// Sink receives the trace's events, on the tracer's goroutine, in
	// order; it must not block for long. Required.
	Sink func(Event)
}

// Trace is one running trace: of a process (here or on another node), or
// of the traffic to a peer. Stop ends it; it also ends by itself at its
// rate limit, when its process exits, or when the other node goes away.
type Trace struct {
	t     *Tracer
	id    proc.Ref
	show  Show
	limit limiter
	sink  func(Event)
	hide  map[string]bool // Options.HideNames

	// All guarded by t.mu.
	pids    map[proc.Pid]struct{} // the local processes it traces
	peer    string                // the peer whose traffic it traces, or ""
	remote  proc.Pid              // the process of another node it traces, or zero
	caller  proc.Pid              // for a trace another node asked for: its collector
	dropped int                   // events dropped since the last one handed out
	stopped bool
}

// Target says what the trace traces: a pid, or a peer node's name.
func (tr *Trace) Target() any {
	switch {
	case tr.peer != "":
		return tr.peer
	case !tr.remote.IsZero():
		return tr.remote
	}
	for pid := range tr.pids {
		return pid
	}
	return nil
}

// Done reports whether the trace has stopped.
func (tr *Trace) Done() bool {
	tr.t.mu.Lock()
	defer tr.t.mu.Unlock()
	return tr.stopped
}

func (tr *Trace) shows(k Kind) bool {
	if tr.show == 0 {
		return true
	}
	switch k {
	case Sent:
		return tr.show&Sends != 0
	case Received:
		return tr.show&Receives != 0
	case Exited:
		return tr.show&Exits != 0
	}
	return true
}

// dropPidLocked forgets a process that exited; a trace left with nothing
// to trace ends.
func (tr *Trace) dropPidLocked(pid proc.Pid) {
	delete(tr.pids, pid)
	if len(tr.pids) == 0 {
		tr.t.stopLocked(tr)
	}
}

// limiter is recon_trace's rate limit over fixed windows.
type limiter struct {
	max   int
	per   time.Duration // 0: max events in all
	start time.Time
	n     int
}

// count counts an event at now; it returns why the trace must stop
// instead of showing it, or "".
func (l *limiter) count(now time.Time) string {
	if l.max <= 0 {
		return "" // a proxy: the traced process's node applies the limit
	}
	if l.per > 0 && now.Sub(l.start) >= l.per {
		l.start, l.n = now, 0
	}
	l.n++
	switch {
	case l.per > 0 && l.n > l.max:
		return fmt.Sprintf("more than %d events in %v (the rate limit; give traceLimit(n, per) to see more)", l.max, l.per)
	case l.per == 0 && l.n > l.max:
		return fmt.Sprintf("%d events shown, the limit", l.max)
	}
	return ""
}

func (t *Tracer) newTrace(o Options) (*Trace, error) {
	if o.Sink == nil {
		return nil, errors.New("trace: Options.Sink is required")
	}
	if o.Max == 0 {
		o.Max, o.Per = DefaultMax, DefaultPer
	}
	tr := &Trace{t: t, id: t.node.MakeRef(), show: o.Show, limit: limiter{max: o.Max, per: o.Per}, sink: o.Sink,
		pids: map[proc.Pid]struct{}{}, hide: map[string]bool{}}
	for _, name := range o.HideNames {
		tr.hide[name] = true
	}
	return tr, nil
}

// addLocked records tr as running (t.mu held).
func (t *Tracer) addLocked(tr *Trace) error {
	if t.closed {
		return ErrClosed
	}
	t.byID[tr.id] = tr
	return nil
}

// Process traces the process pid, of this node or another: the messages
// it sends and receives and its exit, as o.Show selects. A process traced
// already is taken from its earlier trace, as Erlang gives a process one
// tracer. A process of another node is traced there (its node must run a
// tracer serving peers): the events come here until the trace stops, and
// the trace stops when that node goes. ctx bounds the request to it.
func (t *Tracer) Process(ctx context.Context, pid proc.Pid, o Options) (*Trace, error) {
	tr, err := t.newTrace(o)
	if err != nil {
		return nil, err
	}
	pid = t.node.Resolve(pid)
	if !t.node.IsLocal(pid) {
		return t.remoteProcess(ctx, tr, pid, o)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.watchLocked(tr, pid); err != nil {
		return nil, err
	}
	return tr, nil
}

// Peer traces every message between this node and peer, both ways, from
// now on, connected or not yet.
func (t *Tracer) Peer(peer string, o Options) (*Trace, error) {
	if t.cfg.Dist == nil {
		return nil, errors.New("trace: this node is not distributed: it has no peers")
	}
	if peer == t.node.Name() {
		return nil, errors.New("trace: a node's traffic to itself does not cross any connection")
	}
	tr, err := t.newTrace(o)
	if err != nil {
		return nil, err
	}
	tr.peer = peer
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.addLocked(tr); err != nil {
		return nil, err
	}
	if old := t.peers[peer]; old != nil {
		t.stopLocked(old)
	}
	t.peers[peer] = tr
	// dist calls the tracer only while a peer is traced: other traffic
	// pays one atomic load.
	t.cfg.Dist.SetTrafficTracer(t.traffic)
	return tr, nil
}

// Stop ends the trace; a trace of a remote process is ended there too
// (within a few seconds, or when that node goes). It returns once the
// events that came before it have reached the sink, those of a remote
// process included: a script that untraces has seen every line.
// Idempotent.
func (tr *Trace) Stop() {
	t := tr.t
	t.mu.Lock()
	wasRunning := !tr.stopped
	remote := !tr.remote.IsZero() && t.cfg.Dist != nil
	if !remote {
		t.stopLocked(tr)
	}
	t.mu.Unlock()
	if remote {
		if wasRunning {
			// The other node hands out the trace's events before it
			// answers, over the connection the answer takes: they are in
			// the collector's mailbox when the answer is here. The trace
			// stays known meanwhile, so that the collector passes them on.
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			if _, err := t.cfg.Dist.RPC(ctx, tr.remote.Node, fnStop, tr.id); err == nil {
				t.flushCollector(ctx)
			}
			cancel()
		}
		t.mu.Lock()
		t.stopLocked(tr)
		t.mu.Unlock()
	}
	t.flush()
}

// stopLocked ends tr here: its processes unmarked, its peer untraced
// (t.mu held).
func (t *Tracer) stopLocked(tr *Trace) {
	if tr.stopped {
		return
	}
	tr.stopped = true
	delete(t.byID, tr.id)
	for pid := range tr.pids {
		if t.procs[pid] == tr {
			delete(t.procs, pid)
			t.node.Trace(pid, false)
		}
	}
	if tr.peer != "" && t.peers[tr.peer] == tr {
		delete(t.peers, tr.peer)
		if len(t.peers) == 0 {
			t.cfg.Dist.SetTrafficTracer(nil)
		}
	}
}

// watchLocked adds tr and makes it the trace of the local process pid,
// ending the trace that had it if pid was its last process (t.mu held).
func (t *Tracer) watchLocked(tr *Trace, pid proc.Pid) error {
	if err := t.addLocked(tr); err != nil {
		return err
	}
	tr.pids[pid] = struct{}{}
	old := t.procs[pid]
	t.procs[pid] = tr
	if old != nil {
		delete(old.pids, pid)
		if len(old.pids) == 0 {
			t.stopLocked(old)
		}
	}
	if !t.node.Trace(pid, true) {
		delete(t.procs, pid)
		delete(t.byID, tr.id)
		return fmt.Errorf("trace %v: %w", pid, &proc.ExitError{Pid: pid, Reason: proc.NoProc})
	}
	return nil
}
