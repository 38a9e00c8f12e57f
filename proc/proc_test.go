package proc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

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

// AttachContext's process context ends with its parent (the process lives
// on) or with the process, whichever comes first.
func TestAttachContext(t *testing.T) {
	n := newNode(t)
	parent, cancel := context.WithCancel(context.Background())
	p, err := n.AttachContext(parent, SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Context().Err() != nil {
		t.Fatal("context ended at once")
	}
	cancel()
	<-p.Context().Done()
	if !p.Alive() {
		t.Fatal("the parent's end ended the process")
	}
	p.Exit(Normal)

	q, err := n.AttachContext(context.Background(), SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = n.Exit(q.Pid(), Kill)
	select {
	case <-q.Context().Done():
	case <-time.After(waitTime):
		t.Fatal("a killed process's context did not end")
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
