package proc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitTime bounds how long a test waits for a condition: generous, since it
// only matters when the test is failing.
const waitTime = 10 * time.Second

func newNode(t testing.TB) *Node {
	t.Helper()
	n, err := NewNode("test@localhost", 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTime)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return n
}

// attach gives the test goroutine a process to receive with.
func attach(t testing.TB, n *Node) *Process {
	t.Helper()
	p, err := n.Attach(SpawnOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func recv(t testing.TB, p *Process) any {
	t.Helper()
	m, err := p.ReceiveTimeout(waitTime)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return m
}

func recvDown(t testing.TB, p *Process) DownMsg {
	t.Helper()
	m := recv(t, p)
	d, ok := m.(DownMsg)
	if !ok {
		t.Fatalf("got %#v, want a DownMsg", m)
	}
	return d
}

func recvExit(t testing.TB, p *Process) ExitMsg {
	t.Helper()
	m := recv(t, p)
	e, ok := m.(ExitMsg)
	if !ok {
		t.Fatalf("got %#v, want an ExitMsg", m)
	}
	return e
}

// blockForever is a process body that waits until it is killed.
func blockForever(p *Process) { _, _ = p.Receive(nil) }

func TestSendReceiveOrder(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	echo, _ := n.Spawn(func(p *Process) {
		for {
			m, _ := p.Receive(nil)
			_ = p.Send(me.Pid(), m)
		}
	})
	for i := range 100 {
		_ = me.Send(echo, i)
	}
	for i := range 100 {
		if got := recv(t, me); got != i {
			t.Fatalf("message %d: got %v", i, got)
		}
	}
}

func TestSendToDeadOrUnknown(t *testing.T) {
	n := newNode(t)
	dead, _ := n.Spawn(func(p *Process) {})
	waitDead(t, n, dead)
	if err := n.Send(dead, "x"); err != nil {
		t.Errorf("send to dead pid: %v, want silent drop", err)
	}
	if err := n.Send(Pid{Node: n.Name(), ID: 99999}, "x"); err != nil {
		t.Errorf("send to unknown pid: %v, want silent drop", err)
	}
	if err := n.SendName(Name{Name: "nobody"}, "x"); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("send to unknown name: %v, want ErrNotRegistered", err)
	}
	if err := n.Send(Pid{Node: "other@host", ID: 1}, "x"); !errors.Is(err, ErrNoDistribution) {
		t.Errorf("send to remote pid without forwarder: %v, want ErrNoDistribution", err)
	}
}

func waitDead(t testing.TB, n *Node, pid Pid) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for n.Alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("%v still alive", pid)
		}
		time.Sleep(time.Millisecond) // polling a condition, bounded by the deadline
	}
}

func TestReceiveTimeoutAndContext(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	if _, err := me.ReceiveTimeout(0); !errors.Is(err, ErrTimeout) {
		t.Errorf("empty mailbox, zero timeout: %v", err)
	}
	if _, err := me.ReceiveTimeout(time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Errorf("empty mailbox, 1ms: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := me.Receive(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	_ = n.Send(me.Pid(), "late")
	if m, err := me.ReceiveTimeout(0); err != nil || m != "late" {
		t.Errorf("message kept after timeouts: %v %v", m, err)
	}
}

func TestSelectiveReceiveKeepsOrder(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	for _, m := range []any{1, "a", 2, "b", 3, "c"} {
		_ = n.Send(me.Pid(), m)
	}
	isString := func(m any) bool { _, ok := m.(string); return ok }
	for _, want := range []string{"a", "b", "c"} {
		m, err := me.ReceiveMatchTimeout(waitTime, isString)
		if err != nil || m != want {
			t.Fatalf("got %v %v, want %q", m, err, want)
		}
	}
	if _, err := me.ReceiveMatchTimeout(0, isString); !errors.Is(err, ErrTimeout) {
		t.Fatalf("no strings left: %v", err)
	}
	for _, want := range []int{1, 2, 3} {
		if got := recv(t, me); got != want {
			t.Fatalf("got %v, want %d", got, want)
		}
	}
}

func TestSelectiveReceiveWaitsForLaterMatch(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	_ = n.Send(me.Pid(), "skip")
	_, _ = n.Spawn(func(p *Process) { _ = p.Send(me.Pid(), 42) })
	m, err := me.ReceiveMatchTimeout(waitTime, func(m any) bool { return m == 42 })
	if err != nil || m != 42 {
		t.Fatalf("got %v %v", m, err)
	}
	if got := recv(t, me); got != "skip" {
		t.Fatalf("left message: %v", got)
	}
}

func TestRegisteredNames(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	pid, err := n.SpawnOpt(blockForever, SpawnOptions{Name: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := n.Whereis("worker"); !ok || got != pid {
		t.Fatalf("whereis: %v %v", got, ok)
	}
	if _, err := n.SpawnOpt(blockForever, SpawnOptions{Name: "worker"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second spawn with the name: %v", err)
	}
	if err := n.Register("other", pid); !errors.Is(err, ErrAlreadyNamed) {
		t.Fatalf("second name: %v", err)
	}
	if got := n.Registered(); len(got) != 1 || got[0] != "worker" {
		t.Fatalf("registered: %v", got)
	}
	ref := me.MonitorName(Name{Name: "worker"})
	_ = n.Exit(pid, Kill)
	d := recvDown(t, me)
	if d.Ref != ref || d.Name.Name != "worker" || d.Reason != Killed {
		t.Fatalf("down by name: %v", d)
	}
	if _, ok := n.Whereis("worker"); ok {
		t.Fatal("name survived its process")
	}
	if err := n.Unregister("worker"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("unregister gone name: %v", err)
	}
}

func TestMonitorDeadGivesNoproc(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	dead, _ := n.Spawn(func(p *Process) {})
	waitDead(t, n, dead)
	ref := me.Monitor(dead)
	if d := recvDown(t, me); d.Ref != ref || d.Reason != NoProc || d.Pid != dead {
		t.Fatalf("monitor dead pid: %v", d)
	}
	ref = me.MonitorName(Name{Name: "nobody"})
	if d := recvDown(t, me); d.Ref != ref || d.Reason != NoProc || d.Name.Name != "nobody" {
		t.Fatalf("monitor unknown name: %v", d)
	}
}

func TestLinkDeadGivesNoproc(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	dead, _ := n.Spawn(func(p *Process) {})
	waitDead(t, n, dead)
	if err := me.Link(dead); !errors.Is(err, ErrNoProc) {
		t.Fatalf("link to dead pid: %v, want ErrNoProc", err)
	}
	me.TrapExit(true)
	if err := me.Link(dead); err != nil {
		t.Fatalf("link to dead pid while trapping: %v", err)
	}
	if e := recvExit(t, me); e.From != dead || e.Reason != NoProc {
		t.Fatalf("trapped noproc: %v", e)
	}
}

func TestExitReasons(t *testing.T) {
	cases := []struct {
		name       string
		body       Func
		wantReason func(any) bool
	}{
		{"return is normal", func(p *Process) {}, func(r any) bool { return r == Normal }},
		{"exit with a value", func(p *Process) { p.Exit("boom") }, func(r any) bool { return r == "boom" }},
		{"exit shutdown", func(p *Process) { p.Exit(Shutdown) }, func(r any) bool { return r == Shutdown }},
		{"panic carries value and stack", func(p *Process) { panic("kaboom") }, func(r any) bool {
			pr, ok := r.(PanicReason)
			return ok && pr.Value == "kaboom" && strings.Contains(pr.StackText(), "proc_test.go")
		}},
		{"runtime error panic", func(p *Process) { var m map[string]int; m["x"] = 1 }, func(r any) bool {
			pr, ok := r.(PanicReason)
			return ok && strings.Contains(fmt.Sprint(pr.Value), "nil map")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newNode(t)
			me := attach(t, n)
			pid, ref, err := me.SpawnMonitor(c.body)
			if err != nil {
				t.Fatal(err)
			}
			d := recvDown(t, me)
			if d.Ref != ref || d.Pid != pid || !c.wantReason(d.Reason) {
				t.Fatalf("down: %#v", d)
			}
		})
	}
}

func TestLinkPropagation(t *testing.T) {
	cases := []struct {
		name      string
		reason    any  // the linked child's exit reason
		trap      bool // the parent traps exits
		viaKill   bool // the child is killed with Exit(child, kill) instead
		wantDies  bool
		wantValue any // the parent's death reason, or the trapped message's reason
	}{
		{"normal does not kill", Normal, false, false, false, nil},
		{"error kills", "crash", false, false, true, "crash"},
		{"error trapped", "crash", true, false, false, "crash"},
		{"normal trapped arrives", Normal, true, false, false, Normal},
		{"killed reaches links as killed", nil, false, true, true, Killed},
		{"killed is trappable at the link", nil, true, true, false, Killed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newNode(t)
			me := attach(t, n)
			release := make(chan struct{})
			parent, pref, _ := me.SpawnMonitor(func(p *Process) {
				p.TrapExit(c.trap)
				child, _ := p.SpawnLink(func(p *Process) {
					<-release
					if c.viaKill {
						_, _ = p.Receive(nil)
					}
					p.Exit(c.reason)
				})
				_ = p.Send(me.Pid(), child)
				for {
					m, _ := p.Receive(nil)
					_ = p.Send(me.Pid(), m)
				}
			})
			child := recv(t, me).(Pid)
			if c.viaKill {
				_ = n.Exit(child, Kill)
			}
			close(release)
			if c.wantDies {
				d := recvDown(t, me)
				if d.Pid != parent || d.Ref != pref || d.Reason != c.wantValue {
					t.Fatalf("parent death: %v", d)
				}
				return
			}
			if c.trap {
				e := recvExit(t, me)
				if e.From != child || e.Reason != c.wantValue {
					t.Fatalf("trapped: %v", e)
				}
			}
			waitDead(t, n, child)
			if !n.Alive(parent) {
				t.Fatal("parent died")
			}
		})
	}
}

func TestKillCannotBeTrapped(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	// It takes the ExitMsg its trapping turns the signals into, and waits on.
	drain := func(p *Process) {
		for {
			_, _ = p.Receive(nil)
		}
	}
	pid, ref, _ := me.SpawnOpt(drain, SpawnOptions{TrapExit: true, Monitor: true})
	_ = n.Exit(pid, "please")
	if _, err := me.ReceiveTimeout(0); !errors.Is(err, ErrTimeout) {
		t.Fatal("a trapping process died of a plain exit signal")
	}
	_ = n.Exit(pid, Normal)
	_ = n.Exit(pid, Kill)
	if d := recvDown(t, me); d.Ref != ref || d.Reason != Killed {
		t.Fatalf("kill: %v", d)
	}
}

func TestExitSignalNormalIgnoredUnlessSelf(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	pid, ref, _ := me.SpawnMonitor(func(p *Process) {
		_, _ = p.Receive(nil)
		_ = p.SendExit(p.Pid(), Normal) // exit(self(), normal) ends the caller
		_, _ = p.Receive(nil)
		p.Exit("not reached")
	})
	_ = n.Exit(pid, Normal)
	if !n.Alive(pid) {
		t.Fatal("exit(pid, normal) from another killed it")
	}
	_ = n.Send(pid, "go")
	if d := recvDown(t, me); d.Ref != ref || d.Reason != Normal {
		t.Fatalf("self normal exit: %v", d)
	}
}

func TestUnlinkStopsPropagation(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	child, _ := me.SpawnLink(blockForever)
	if err := me.Unlink(child); err != nil {
		t.Fatal(err)
	}
	_ = n.Exit(child, "bye")
	waitDead(t, n, child)
	if !me.Alive() {
		t.Fatal("unlinked process died")
	}
}

func TestDemonitorFlush(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	pid, _ := n.Spawn(blockForever)
	ref := me.Monitor(pid)
	if !me.Demonitor(ref, false) {
		t.Fatal("demonitor of an active monitor returned false")
	}
	ref2 := me.Monitor(pid)
	_ = n.Exit(pid, Kill)
	waitDead(t, n, pid)
	// The DOWN for ref2 may or may not have been queued yet; after a flushing
	// demonitor it must not be there either way.
	me.Demonitor(ref2, true)
	_ = n.Send(me.Pid(), "marker")
	if got := recv(t, me); got != "marker" {
		t.Fatalf("after demonitor with flush: %v", got)
	}
}

func TestCall(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	server, _ := n.SpawnOpt(func(p *Process) {
		for {
			m, _ := p.Receive(nil)
			req := m.(CallRequest)
			switch req.Request {
			case "die":
				p.Exit("asked to")
			case "silent":
			default:
				_ = p.Reply(req, fmt.Sprint(req.Request, "!"))
			}
		}
	}, SpawnOptions{Name: "server"})
	if got, err := me.Call(server, "hi", waitTime); err != nil || got != "hi!" {
		t.Fatalf("call: %v %v", got, err)
	}
	if got, err := me.CallName(Name{Name: "server"}, "yo", waitTime); err != nil || got != "yo!" {
		t.Fatalf("call by name: %v %v", got, err)
	}
	if _, err := me.Call(server, "silent", 10*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("silent callee: %v", err)
	}
	var ee *ExitError
	if _, err := me.Call(server, "die", waitTime); !errors.As(err, &ee) || ee.Reason != "asked to" {
		t.Fatalf("callee died: %v", err)
	}
	if _, err := me.Call(server, "hi", waitTime); !errors.Is(err, ErrNoProc) {
		t.Fatalf("dead callee: %v, want ErrNoProc at once", err)
	}
	if _, err := me.CallName(Name{Name: "server"}, "hi", waitTime); !errors.Is(err, ErrNoProc) {
		t.Fatalf("unknown name: %v", err)
	}
	if n := me.MessageQueueLen(); n != 0 {
		t.Fatalf("calls left %d messages behind", n)
	}
}

func TestHandlerStyle(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	var got []any
	pid, ref, err := me.SpawnHandler(func(p *Process, m any) {
		if m == "crash" {
			panic("handler panic")
		}
		got = append(got, m)
		_ = p.Send(me.Pid(), len(got))
	}, SpawnOptions{Monitor: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		_ = n.Send(pid, i)
	}
	for i := 1; i <= 10; i++ {
		if m := recv(t, me); m != i {
			t.Fatalf("reply %d: %v", i, m)
		}
	}
	info, _ := n.Info(pid)
	if info.Style != "handler" {
		t.Fatalf("style %q", info.Style)
	}
	_ = n.Send(pid, "crash")
	d := recvDown(t, me)
	if pr, ok := d.Reason.(PanicReason); !ok || d.Ref != ref || pr.Value != "handler panic" {
		t.Fatalf("handler panic: %v", d)
	}
	for i, m := range got {
		if m != i {
			t.Fatalf("handler order: %v", got)
		}
	}
}

func TestInfo(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	pid, _ := me.SpawnLink(blockForever)
	if err := n.Register("blocker", pid); err != nil {
		t.Fatal(err)
	}
	_ = n.Send(pid, "a") // taken by blockForever's Receive, which then returns
	waitDead(t, n, pid)
	pid, _ = me.SpawnLink(func(p *Process) {
		p.SetLabel("sleeping")
		_, _ = p.ReceiveMatch(nil, func(any) bool { return false })
	})
	_ = n.Register("blocker", pid)
	_ = n.Send(pid, "x")
	_ = n.Send(pid, "y")
	var info Info
	deadline := time.Now().Add(waitTime)
	for {
		info, _ = n.Info(pid)
		if info.Status == "waiting" && info.MessageQueueLen == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("info: %+v", info)
		}
		time.Sleep(time.Millisecond)
	}
	if info.Name != "blocker" || info.Label != "sleeping" || len(info.Links) != 1 || info.Links[0] != me.Pid() ||
		!strings.Contains(info.Function, "TestInfo") || info.Memory <= 0 {
		t.Fatalf("info: %+v", info)
	}
	if all := n.Processes(); len(all) != 2 {
		t.Fatalf("processes: %d", len(all))
	}
}

func TestManySendersKeepPerPairOrder(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	const senders, each = 8, 20000
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		_, _ = n.Spawn(func(p *Process) {
			defer wg.Done()
			for i := range each {
				_ = p.Send(me.Pid(), [2]int{s, i})
			}
		})
	}
	next := make([]int, senders)
	for range senders * each {
		m := recv(t, me).([2]int)
		if m[1] != next[m[0]] {
			t.Fatalf("sender %d: got %d, want %d", m[0], m[1], next[m[0]])
		}
		next[m[0]]++
	}
	wg.Wait()
}

func TestMillionMessagesNoneLost(t *testing.T) {
	if testing.Short() {
		t.Skip("long: run without -short")
	}
	n := newNode(t)
	me := attach(t, n)
	const total = 1_000_000
	sink, _ := n.Spawn(func(p *Process) {
		sum := 0
		for i := range total {
			m, _ := p.Receive(nil)
			if m.(int) != i {
				p.Exit(fmt.Sprintf("message %d out of order: %v", i, m))
			}
			sum++
		}
		_ = p.Send(me.Pid(), sum)
	})
	for i := range total {
		_ = me.Send(sink, i)
	}
	if got := recv(t, me); got != total {
		t.Fatalf("got %v", got)
	}
}

func TestKilledWhileBlockedUnwinds(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	after := make(chan struct{}, 1)
	pid, ref, _ := me.SpawnMonitor(func(p *Process) {
		_, _ = p.Receive(nil)
		after <- struct{}{} // must never run: the receive unwinds the killed process
	})
	_ = n.Exit(pid, "stop")
	if d := recvDown(t, me); d.Ref != ref || d.Reason != "stop" {
		t.Fatalf("%v", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-after:
		t.Fatal("killed process went on after Receive")
	default:
	}
}

func TestAttachedProcessKilled(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	_ = n.Exit(me.Pid(), Kill)
	if _, err := me.ReceiveTimeout(waitTime); !errors.Is(err, ErrDead) {
		t.Fatalf("receive in a killed attached process: %v", err)
	}
	if err := me.Send(me.Pid(), 1); !errors.Is(err, ErrDead) {
		t.Fatalf("send: %v", err)
	}
	if me.Reason() != Killed {
		t.Fatalf("reason %v", me.Reason())
	}
}

func TestStopRefusesSpawns(t *testing.T) {
	n := newNode(t)
	_, _ = n.Spawn(blockForever)
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if n.Count() != 0 {
		t.Fatalf("%d processes left", n.Count())
	}
	if _, err := n.Spawn(blockForever); !errors.Is(err, ErrNodeStopped) {
		t.Fatalf("spawn after stop: %v", err)
	}
}
