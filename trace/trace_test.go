package trace

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testcluster"
	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

const waitTime = testcluster.WaitTime

// lines is a sink that passes each event's line on a channel.
type lines chan string

func (l lines) sink(ev Event) { l <- ev.Line(nil) }

// next returns the next line, failing the test after waitTime.
func (l lines) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-l:
		return s
	case <-time.After(waitTime):
		t.Fatal("no trace line")
		return ""
	}
}

func localNode(t *testing.T) (*proc.Node, *Tracer) {
	t.Helper()
	n, err := proc.NewNode("trace@localhost", 1)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Start(Config{Node: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tr.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitTime)
		defer cancel()
		_ = n.Stop(ctx)
	})
	return n, tr
}

// echo answers each message m with m back to the test's process, and
// exits on "stop".
func echo(to proc.Pid) proc.Func {
	return func(p *proc.Process) {
		for {
			m, err := p.Receive(nil)
			if err != nil || m == "stop" {
				return
			}
			_ = p.Send(to, m)
		}
	}
}

func TestProcessTraceLines(t *testing.T) {
	n, tracer := localNode(t)
	me, _ := n.Attach(proc.SpawnOptions{})
	pid, _ := n.Spawn(echo(me.Pid()))
	out := make(lines, 100)
	seen := make(chan Event, 100)
	cancel := tracer.Subscribe(func(ev Event) { seen <- ev })
	if _, err := tracer.Process(context.Background(), pid, Options{Sink: out.sink}); err != nil {
		t.Fatal(err)
	}
	_ = me.Send(pid, "hi")
	for _, want := range []string{
		"[trace] " + pid.String() + ` received "hi"`,
		"[trace] " + pid.String() + ` sent "hi" to ` + me.Pid().String(),
	} {
		if got := out.next(t); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
	_ = me.Send(pid, "stop")
	out.next(t) // received "stop"
	if got, want := out.next(t), "[trace] "+pid.String()+" exited: :normal"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for i, want := range []Kind{Received, Sent, Received, Exited} {
		select {
		case ev := <-seen:
			if ev.Kind != want || ev.Pid != pid {
				t.Errorf("subscriber's event %d: %+v, want kind %d", i, ev, want)
			}
		case <-time.After(waitTime):
			t.Fatalf("subscriber's event %d did not come", i)
		}
	}
	cancel()
	if _, err := tracer.Process(context.Background(), pid, Options{Sink: out.sink}); !errors.Is(err, proc.ErrNoProc) {
		t.Errorf("trace of a dead process: %v", err)
	}
}

// recon_trace's rule: past Max events within Per, the trace stops itself,
// says so, and the process is no longer traced; Show selects events.
func TestRateLimitStopsTrace(t *testing.T) {
	n, tracer := localNode(t)
	pid, _ := n.Spawn(func(p *proc.Process) { _, _ = p.ReceiveMatch(nil, func(any) bool { return false }) }) // holds its messages
	out := make(lines, 100)
	tr, err := tracer.Process(context.Background(), pid, Options{Max: 3, Per: time.Hour, Show: Receives, Sink: out.sink})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		_ = n.Send(pid, i)
	}
	for i := range 3 {
		if got := out.next(t); !strings.HasSuffix(got, " received "+string(rune('0'+i))) {
			t.Errorf("line %d: %s", i, got)
		}
	}
	if got := out.next(t); got != "[trace] stopped: more than 3 events in 1h0m0s (the rate limit; give traceLimit(n, per) to see more)" {
		t.Errorf("got %s", got)
	}
	if n.Traced(pid) || !tr.Done() {
		t.Error("the process is still traced after the limit")
	}
	select {
	case l := <-out:
		t.Errorf("a line after the stop: %s", l)
	default:
	}
	// A plain Max (Per 0): that many events, then the stop.
	out2 := make(lines, 100)
	if _, err := tracer.Process(context.Background(), pid, Options{Max: 1, Sink: out2.sink}); err != nil {
		t.Fatal(err)
	}
	_ = n.Send(pid, "a")
	_ = n.Send(pid, "b")
	out2.next(t)
	if got := out2.next(t); got != "[trace] stopped: 1 events shown, the limit" {
		t.Errorf("got %s", got)
	}
}

// distNode starts a distributed node with a tracer serving peers.
func distNode(t *testing.T, c *testcluster.Cluster, name string) (*dist.Node, *Tracer) {
	t.Helper()
	funcs := dist.NewFuncs()
	d, err := dist.Start(context.Background(), dist.Config{Name: name, Cookie: "secret", EPMDAddr: c.EPMD,
		Transport: c.Mem.Transport(name), Functions: funcs, Logf: c.Logs.Logf})
	if err != nil {
		t.Fatal(err)
	}
	tracer, err := Start(Config{Node: d.Proc(), Dist: d, Funcs: funcs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tracer.Close(); d.Close() })
	return d, tracer
}

// A process of node b traced from a: its events come to a's sink; the
// rate limit applies there; Stop and b going away end the trace.
func TestRemoteProcessTrace(t *testing.T) {
	c := testcluster.NewMem(t)
	a, ta := distNode(t, c, "ta@localhost")
	b, _ := distNode(t, c, "tb@localhost")
	testcluster.Connect(t, a, b)
	me := testcluster.Attach(t, a)
	pid, _ := b.Proc().Spawn(echo(me.Pid()))
	out := make(lines, 100)
	tr, err := ta.Process(testcluster.Ctx(t), pid, Options{Sink: out.sink})
	if err != nil {
		t.Fatal(err)
	}
	_ = me.Send(pid, []any{proc.Atom("ping"), int64(1)})
	want := []string{"[trace] " + pid.String() + " received [:ping 1]", "[trace] " + pid.String() + " sent [:ping 1] to " + me.Pid().String()}
	for _, w := range want {
		if got := out.next(t); got != w {
			t.Errorf("got  %s\nwant %s", got, w)
		}
	}
	tr.Stop()
	if b.Proc().Traced(pid) {
		t.Error("still traced on b after Stop")
	}

	// The limit, applied on b, ends a's side too.
	out2 := make(lines, 100)
	tr2, err := ta.Process(testcluster.Ctx(t), pid, Options{Max: 1, Per: time.Hour, Show: Receives, Sink: out2.sink})
	if err != nil {
		t.Fatal(err)
	}
	_ = me.Send(pid, "x")
	_ = me.Send(pid, "y")
	out2.next(t)
	if got := out2.next(t); !strings.HasPrefix(got, "[trace] stopped: more than 1 events") {
		t.Errorf("got %s", got)
	}
	testcluster.Eventually(t, "a's side stopped", tr2.Done)

	// b going down ends a trace of its process, and says so.
	out3 := make(lines, 100)
	if _, err := ta.Process(testcluster.Ctx(t), pid, Options{Sink: out3.sink}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if got := out3.next(t); got != "[trace] stopped: node tb@localhost is down" {
		t.Errorf("got %s", got)
	}
}

// traceNode: every message between this node and the peer, both ways.
func TestPeerTraffic(t *testing.T) {
	c := testcluster.NewMem(t)
	a, ta := distNode(t, c, "pa@localhost")
	b, _ := distNode(t, c, "pb@localhost")
	testcluster.Connect(t, a, b)
	me := testcluster.Attach(t, a)
	pid, _ := b.Proc().Spawn(echo(me.Pid()))
	out := make(lines, 100)
	if _, err := ta.Peer("pb@localhost", Options{Sink: out.sink}); err != nil {
		t.Fatal(err)
	}
	_ = me.Send(pid, "hi")
	want := []string{
		`[trace] pa@localhost -> pb@localhost: send "hi" from ` + me.Pid().String() + " to " + pid.String(),
		`[trace] pb@localhost -> pa@localhost: send "hi" from ` + pid.String() + " to " + me.Pid().String(),
	}
	for _, w := range want {
		if got := out.next(t); got != w {
			t.Errorf("got  %s\nwant %s", got, w)
		}
	}
}

// getState of a server here and on another node; of a plain process, an
// error saying so.
func TestGetState(t *testing.T) {
	c := testcluster.NewMem(t)
	a, ta := distNode(t, c, "ga@localhost")
	b, _ := distNode(t, c, "gb@localhost")
	testcluster.Connect(t, a, b)
	me := testcluster.Attach(t, a)
	for _, n := range []*dist.Node{a, b} {
		srv, err := otp.StartServerOn(n.Proc(), otp.Server{}, "state of "+n.Name(), otp.ServerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := ta.GetState(testcluster.Ctx(t), me, srv); err != nil || st != "state of "+n.Name() {
			t.Errorf("getState on %s: %v %v", n.Name(), st, err)
		}
	}
	plain, _ := b.Proc().Spawn(func(p *proc.Process) { _, _ = p.Receive(nil) })
	if _, err := ta.GetState(testcluster.Ctx(t), me, plain); err == nil || !strings.Contains(err.Error(), "not a server") {
		t.Errorf("getState of a plain process: %v", err)
	}
}

// Under a flood from several senders at once, a trace shows at most its
// limit, then stops: the limit is counted under the tracer's lock, not
// per sender.
func TestRateLimitHoldsUnderFlood(t *testing.T) {
	n, tracer := localNode(t)
	pid, _ := n.Spawn(func(p *proc.Process) {
		for {
			if _, err := p.Receive(nil); err != nil {
				return
			}
		}
	})
	events := make(chan Event, queueLen)
	tr, err := tracer.Process(context.Background(), pid, Options{Sink: func(ev Event) { events <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	const senders, each = 4, 20000
	done := make(chan struct{})
	for range senders {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				_ = n.Send(pid, i)
			}
		}()
	}
	for range senders {
		<-done
	}
	tr.Stop() // flushes what was queued
	shown, stopped := 0, 0
	for len(events) > 0 {
		switch (<-events).Kind {
		case Received:
			shown++
		case Stopped:
			stopped++
		}
	}
	if shown > DefaultMax || stopped != 1 {
		t.Fatalf("%d events shown and %d stops for %d messages; want at most %d, then one stop", shown, stopped, senders*each, DefaultMax)
	}
}
