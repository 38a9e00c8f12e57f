package proc

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of behaviours checked against Erlang/OTP 25 (through elixir -e);
// each names what it mirrors.

// OTP 25: gen:call monitors the callee with {alias, demonitor} and, after
// a timeout, drops the monitor and so the alias: a reply that comes later
// never reaches the caller's mailbox (GenServer.call(pid, :slow, 10), the
// reply sent 100 ms later: exit {:timeout, ...}, then
// Process.info(self(), :messages) is {:messages, []}).
func TestCallLateReplyDropped(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	server, _ := n.Spawn(func(p *Process) {
		m, _ := p.Receive(nil)
		req := m.(CallRequest)
		go_, _ := p.Receive(nil) // the test's go-ahead, sent after the call timed out
		_ = p.Reply(req, "late")
		_ = p.Send(go_.(Pid), "after the reply") // same sender: it would queue behind the reply
		blockForever(p)
	})
	if _, err := me.Call(server, "slow", time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("call: %v, want a timeout", err)
	}
	_ = me.Send(server, me.Pid())
	if got := recv(t, me); got != "after the reply" {
		t.Fatalf("got %#v: the late reply reached the mailbox", got)
	}
	if q := me.MessageQueueLen(); q != 0 {
		t.Fatalf("%d messages left in the mailbox", q)
	}
	// A CallReply for no call at all is dropped the same way.
	_ = n.Send(me.Pid(), CallReply{Ref: n.MakeRef(), Reply: "stray"})
	_ = n.Send(me.Pid(), "marker")
	if got := recv(t, me); got != "marker" {
		t.Fatalf("got %#v, want the stray reply dropped", got)
	}
}

// OTP 25: erlang:demonitor(Ref, [flush]) removes a DOWN for Ref already in
// the mailbox, whatever the process's kind (Process.demonitor(ref, [:flush])
// after the target was killed: true, and the mailbox is []). Here in a
// handler-style process, with the DOWN queued behind the message whose
// handling demonitors.
func TestDemonitorFlushHandlerStyle(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	target, _ := n.Spawn(blockForever)
	gate := make(chan struct{})
	var ref Ref
	h, _ := n.SpawnHandler(func(p *Process, m any) {
		switch m {
		case "monitor":
			ref = p.Monitor(target)
		case "block":
			<-gate
		case "flush":
			p.Demonitor(ref, true)
		}
		_ = p.Send(me.Pid(), m) // every message handled, in order
	}, SpawnOptions{})
	_ = n.Send(h, "monitor")
	_ = n.Send(h, "block")
	if got := recv(t, me); got != "monitor" {
		t.Fatalf("got %#v", got)
	}
	// The handler is now in "block" or about to be: what follows queues up.
	_ = n.Send(h, "flush")
	_ = n.Exit(target, Kill) // the DOWN is queued before Exit returns, after "flush"
	_ = n.Send(h, "marker")
	close(gate)
	for _, want := range []any{"block", "flush", "marker"} {
		if got := recv(t, me); got != want {
			t.Fatalf("got %#v, want %v: the DOWN was not flushed", got, want)
		}
	}
}

// OTP 25: gen:call to a name that is not registered exits at once with
// noproc, for a bare name and for {Name, node()} alike
// (GenServer.call(:nobody_here, :x) exits {:noproc, {GenServer, :call,
// [:nobody_here, :x, 5000]}}; with {:nobody_here, node()} the same).
func TestCallNameNotRegisteredIsNoproc(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	for _, to := range []Name{{Name: "nobody"}, {Name: "nobody", Node: n.Name()}} {
		_, err := me.CallName(to, "x", waitTime)
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Reason != NoProc || !errors.Is(err, ErrNoProc) {
			t.Fatalf("call to %v: %v, want an ExitError with reason noproc", to, err)
		}
	}
	if q := me.MessageQueueLen(); q != 0 {
		t.Fatalf("%d messages left in the mailbox", q)
	}
}

// OTP 25: gen:call to the calling process fails at once with calling_self,
// by pid or by its own registered name (GenServer.call(self(), :x) exits
// {:calling_self, {GenServer, :call, [pid, :x, 5000]}}; after
// Process.register(self(), :me), GenServer.call(:me, :x) the same).
func TestCallSelf(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	if err := n.Register("me", me.Pid()); err != nil {
		t.Fatal(err)
	}
	parsed, err := ParsePid(me.Pid().String()) // Creation 0: still this process
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"pid":        func() error { _, err := me.Call(me.Pid(), "x", waitTime); return err },
		"parsed pid": func() error { _, err := me.Call(parsed, "x", waitTime); return err },
		"name":       func() error { _, err := me.CallName(Name{Name: "me"}, "x", waitTime); return err },
		"name, node": func() error { _, err := me.CallName(Name{Name: "me", Node: n.Name()}, "x", waitTime); return err },
	}
	for what, call := range calls {
		if err := call(); !errors.Is(err, ErrCallingSelf) || !strings.Contains(err.Error(), "calling_self") {
			t.Errorf("call to self by %s: %v, want ErrCallingSelf", what, err)
		}
	}
	if q := me.MessageQueueLen(); q != 0 {
		t.Fatalf("%d messages left in the mailbox", q)
	}
}

// OTP 25: {Name, node()} ! Msg for a name not registered returns Msg and
// raises nothing; only a bare Name ! Msg raises badarg
// (send({:nobody_here, node()}, :hi) returns :hi; send(:nobody_here, :hi)
// raises ArgumentError "invalid destination").
func TestSendNameThisNodeUnregisteredIsDropped(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	if err := n.SendName(Name{Name: "nobody", Node: n.Name()}, "hi"); err != nil {
		t.Errorf("send to {nobody, this node}: %v, want it dropped silently", err)
	}
	if err := me.SendName(Name{Name: "nobody", Node: n.Name()}, "hi"); err != nil {
		t.Errorf("send from a process to {nobody, this node}: %v", err)
	}
	if err := me.SendName(Name{Name: "nobody"}, "hi"); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("send to a bare unknown name: %v, want ErrNotRegistered (badarg)", err)
	}
}

// OTP 25: proc_lib writes a crash report for a process that crashes by
// its own doing, and none for one that ends normally or dies of an exit
// signal; a supervisor reports its children's exits itself. Checked with
// erl: proc_lib:spawn(fun() -> error(boom) end) and ... exit(foo) end)
// print "=CRASH REPORT==== ... crasher: exception error: boom" (and
// "exception exit: foo"); a normal return, exit(P, kill) and
// exit(P, {boom, []}) print nothing.
func TestCrashReporter(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	var mu sync.Mutex
	var reports []CrashReport
	n.SetCrashReporter(func(r CrashReport) {
		mu.Lock()
		reports = append(reports, r)
		mu.Unlock()
	})
	spawn := func(fn Func, o SpawnOptions) Pid {
		t.Helper()
		o.Monitor = true
		pid, _, err := me.SpawnOpt(fn, o)
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	crasher := spawn(func(p *Process) { panic("boom") }, SpawnOptions{Name: "crasher", Label: "crashing"})
	exiter := spawn(func(p *Process) { p.Exit(PanicReason{Value: "caught"}) }, SpawnOptions{})
	spawn(func(p *Process) {}, SpawnOptions{})                                      // normal exit
	spawn(func(p *Process) { panic("supervised") }, SpawnOptions{Supervised: true}) // its supervisor reports
	signalled := spawn(blockForever, SpawnOptions{})                                // dies of another's PanicReason
	killed := spawn(blockForever, SpawnOptions{})
	_ = n.Exit(killed, Kill)
	_ = n.Exit(signalled, PanicReason{Value: "from another"})
	h, _, err := me.SpawnHandler(func(p *Process, m any) { panic(m) }, SpawnOptions{Monitor: true, Supervised: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = n.Send(h, "supervised handler")
	for range 7 {
		recvDown(t, me)
	}
	// Stop waits for every process goroutine, and so for every report.
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 2 {
		t.Fatalf("%d reports, want 2: %+v", len(reports), reports)
	}
	byPid := map[Pid]CrashReport{reports[0].Pid: reports[0], reports[1].Pid: reports[1]}
	r := byPid[crasher]
	pr, ok := r.Reason.(PanicReason)
	if r.Name != "crasher" || r.Label != "crashing" || !ok || pr.Value != "boom" ||
		!strings.Contains(r.Function, "TestCrashReporter") || !strings.Contains(pr.StackText(), "TestCrashReporter") {
		t.Fatalf("panic report %+v", r)
	}
	r = byPid[exiter]
	if pr, ok := r.Reason.(PanicReason); !ok || pr.Value != "caught" || r.Name != "" {
		t.Fatalf("exit report %+v", r)
	}
}

// A handler-style process that panics is reported too.
func TestCrashReporterHandler(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	got := make(chan CrashReport, 2)
	n.SetCrashReporter(func(r CrashReport) { got <- r })
	h, _, err := me.SpawnHandler(func(p *Process, m any) { panic(m) }, SpawnOptions{Monitor: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = n.Send(h, "handler boom")
	recvDown(t, me)
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	close(got)
	var rs []CrashReport
	for r := range got {
		rs = append(rs, r)
	}
	if len(rs) != 1 || rs[0].Pid != h || rs[0].Reason.(PanicReason).Value != "handler boom" {
		t.Fatalf("reports %+v", rs)
	}
	n.SetCrashReporter(nil)
	n.ReportCrash(CrashReport{}) // no reporter: nothing happens
}
