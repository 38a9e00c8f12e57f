package otp_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// Children in these tests tell the test process (the observer) what they
// do: started{id, pid} when they start, stopped{id, reason} when they
// stop on an exit signal they trap. The observer waits on those messages:
// no test sleeps.
type started struct {
	id  string
	pid proc.Pid
}

type stopped struct {
	id     string
	reason any
}

// wait is how long a test waits for a message it expects; reaching it is
// a failure, not a measurement.
const wait = 10 * time.Second

var nodeSeq atomic.Int64

func newNode(t testing.TB) *proc.Node {
	t.Helper()
	n, err := proc.NewNode(fmt.Sprintf("otp%d@localhost", nodeSeq.Add(1)), 1)
	if err != nil {
		t.Fatal(err)
	}
	otp.SetReporter(n, func(otp.Event) {}) // quiet: tests that check reports set their own
	t.Cleanup(func() {
		otp.SetReporter(n, nil)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			t.Errorf("node stop: %v", err)
		}
	})
	return n
}

// observer is the test's own process.
func observer(t testing.TB, n *proc.Node) *proc.Process {
	t.Helper()
	p, err := n.Attach(proc.SpawnOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Exit(proc.Normal) })
	return p
}

// worker is a child that reports its start to obs, traps exits so that it
// can report how it is stopped, and on the messages "crash", "exit normal"
// and "exit shutdown" panics or returns with that reason. Its start
// returns once it has reported, as an OTP child's start returns after its
// init: children start in order.
func worker(id string, obs proc.Pid) otp.StartFunc {
	return func(sup *proc.Process, node string) (proc.Pid, error) {
		ready := make(chan struct{})
		pid, _, err := sup.SpawnOpt(func(p *proc.Process) {
			p.TrapExit(true)
			_ = p.Send(obs, started{id, p.Pid()})
			close(ready)
			workerLoop(p, id, obs)
		}, proc.SpawnOptions{Link: true, Supervised: true})
		if err == nil {
			<-ready
		}
		return pid, err
	}
}

func workerLoop(p *proc.Process, id string, obs proc.Pid) {
	for {
		m, err := p.Receive(nil)
		if err != nil {
			return
		}
		switch m := m.(type) {
		case proc.ExitMsg:
			_ = p.Send(obs, stopped{id, m.Reason})
			p.Exit(m.Reason)
		case string:
			switch m {
			case "crash":
				panic("boom")
			case "exit normal":
				return
			case "exit shutdown":
				p.Exit(proc.Shutdown)
			case "exit shutdown detail":
				p.Exit(otp.ShutdownReason{Detail: "done"})
			case "ignore shutdown":
				for {
					_, _ = p.Receive(nil) // traps and ignores every exit: only kill stops it
				}
			}
		}
	}
}

func spec(id string, obs proc.Pid) otp.ChildSpec {
	return otp.ChildSpec{ID: id, Start: worker(id, obs)}
}

// expectStarted takes the next started messages and checks their ids in order.
func expectStarted(t testing.TB, p *proc.Process, ids ...string) []proc.Pid {
	t.Helper()
	var pids []proc.Pid
	for _, id := range ids {
		m := next[started](t, p)
		if m.id != id {
			t.Fatalf("started %q, want %q (order %v)", m.id, id, ids)
		}
		pids = append(pids, m.pid)
	}
	return pids
}

// expectStopped takes the next stopped messages and checks their ids in order.
func expectStopped(t testing.TB, p *proc.Process, ids ...string) {
	t.Helper()
	for _, id := range ids {
		m := next[stopped](t, p)
		if m.id != id {
			t.Fatalf("stopped %q, want %q (order %v)", m.id, id, ids)
		}
		if m.reason != proc.Shutdown {
			t.Fatalf("child %q stopped with %v, want shutdown", m.id, m.reason)
		}
	}
}

// next takes the next message of type T, leaving others queued.
func next[T any](t testing.TB, p *proc.Process) T {
	t.Helper()
	m, err := p.ReceiveMatchTimeout(wait, func(m any) bool { _, ok := m.(T); return ok })
	if err != nil {
		var zero T
		t.Fatalf("no %T message: %v", zero, err)
	}
	return m.(T)
}

// none checks that no message of type T is queued once the supervisor
// has answered a call (it handles messages in order, so whatever it did
// about earlier exits is done).
func none[T any](t testing.TB, p *proc.Process, sup proc.Pid) {
	t.Helper()
	if _, err := otp.WhichChildren(p, sup); err != nil {
		t.Fatal(err)
	}
	if m, err := p.ReceiveMatchTimeout(0, func(m any) bool { _, ok := m.(T); return ok }); err == nil {
		t.Fatalf("unexpected %#v", m)
	}
}

func children(t testing.TB, p *proc.Process, sup proc.Pid) []otp.ChildInfo {
	t.Helper()
	cs, err := otp.WhichChildren(p, sup)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// downOf monitors pid and returns its exit reason once it is dead.
func downOf(t testing.TB, p *proc.Process, pid proc.Pid) any {
	t.Helper()
	ref := p.Monitor(pid)
	m, err := p.ReceiveMatchTimeout(wait, func(m any) bool { d, ok := m.(proc.DownMsg); return ok && d.Ref == ref })
	if err != nil {
		t.Fatalf("%v did not exit: %v", pid, err)
	}
	return m.(proc.DownMsg).Reason
}
