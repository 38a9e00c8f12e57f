package dist

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

func TestRemoteSendAndNames(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	me := attach(t, a)
	echo, err := b.Proc().SpawnOpt(func(p *proc.Process) {
		for {
			m, err := p.Receive(nil)
			if err != nil {
				return
			}
			msg := m.([]any)
			_ = p.Send(msg[0].(proc.Pid), msg[1])
		}
	}, proc.SpawnOptions{Name: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := me.Send(echo, []any{me.Pid(), "by pid"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, me); got != "by pid" {
		t.Fatalf("got %v", got)
	}
	if err := me.SendName(proc.Name{Name: "echo", Node: "b@localhost"}, []any{me.Pid(), proc.Atom("by_name")}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, me); got != proc.Atom("by_name") {
		t.Fatalf("got %#v", got)
	}
	if err := me.SendName(proc.Name{Name: "nobody", Node: "b@localhost"}, "lost"); err != nil {
		t.Fatalf("send to unknown remote name: %v (Erlang drops it silently)", err)
	}
}

func TestRemoteLinkMonitorAndNoconnection(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	me := attach(t, a)
	me.TrapExit(true)
	crasher, _ := b.Proc().Spawn(func(p *proc.Process) {
		_, _ = p.Receive(nil)
		p.Exit("crashed")
	})
	if err := me.Link(crasher); err != nil {
		t.Fatal(err)
	}
	ref := me.Monitor(crasher)
	eventually(t, "link and monitor on b", func() bool {
		info, _ := b.Proc().Info(crasher)
		return len(info.Links) == 1 && len(info.MonitoredBy) == 1
	})
	_ = me.Send(crasher, "go")
	got := map[string]bool{}
	for range 2 {
		switch m := recv(t, me).(type) {
		case proc.ExitMsg:
			got["exit"] = m.From == crasher && m.Reason == "crashed"
		case proc.DownMsg:
			got["down"] = m.Ref == ref && m.Reason == "crashed"
		}
	}
	if !got["exit"] || !got["down"] {
		t.Fatalf("remote exit and down: %v", got)
	}

	sleeper, _ := b.Proc().Spawn(func(p *proc.Process) { _, _ = p.Receive(nil) })
	_ = me.Link(sleeper)
	ref = me.Monitor(sleeper)
	eventually(t, "second link on b", func() bool {
		info, _ := b.Proc().Info(sleeper)
		return len(info.Links) == 1 && len(info.MonitoredBy) == 1
	})
	a.MonitorNodes(me.Pid(), true, false)
	if !a.Disconnect("b@localhost") {
		t.Fatal("disconnect: not connected")
	}
	got = map[string]bool{}
	for range 3 {
		switch m := recv(t, me).(type) {
		case proc.ExitMsg:
			got["exit"] = m.From == sleeper && m.Reason == proc.NoConnection
		case proc.DownMsg:
			got["down"] = m.Ref == ref && m.Reason == proc.NoConnection
		case NodeDown:
			got["nodedown"] = m.Node == "b@localhost" && m.Reason == "disconnect"
		}
	}
	if !got["exit"] || !got["down"] || !got["nodedown"] {
		t.Fatalf("after disconnect: %v", got)
	}
	eventually(t, "b unlinks the sleeper from a", func() bool {
		info, _ := b.Proc().Info(sleeper)
		return len(info.Links) == 0
	})
}

func TestRemoteMonitorDeadAndUnknownName(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	me := attach(t, a)
	dead, _ := b.Proc().Spawn(func(p *proc.Process) {})
	eventually(t, "process ends", func() bool { return !b.Proc().Alive(dead) })
	ref := me.Monitor(dead)
	if d := recv(t, me).(proc.DownMsg); d.Ref != ref || d.Reason != proc.NoProc {
		t.Fatalf("monitor dead remote: %v", d)
	}
	ref = me.MonitorName(proc.Name{Name: "nosuch", Node: "b@localhost"})
	if d := recv(t, me).(proc.DownMsg); d.Ref != ref || d.Reason != proc.NoProc || d.Name.Name != "nosuch" {
		t.Fatalf("monitor unknown remote name: %v", d)
	}
	ref = me.Monitor(proc.Pid{Node: "ghost@localhost", ID: 1})
	if d := recv(t, me).(proc.DownMsg); d.Ref != ref || d.Reason != proc.NoConnection {
		t.Fatalf("monitor on unreachable node: %v", d)
	}
}

func TestRPC(t *testing.T) {
	c := newCluster(t)
	a, _ := c.start("a@localhost"), c.start("b@localhost")
	v, err := a.RPC(ctx(t), "b@localhost", "square", 5)
	if err != nil || v != int(25) {
		t.Fatalf("square: %#v %v", v, err)
	}
	cases := []struct {
		fn   string
		args []any
		want error
	}{
		{"nosuch", nil, ErrUndef},
		{"square", []any{"five"}, ErrBadArgs},
		{"square", nil, ErrBadArgs},
		{"boom", nil, ErrPanic},
	}
	for _, tc := range cases {
		_, err := a.RPC(ctx(t), "b@localhost", tc.fn, tc.args...)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s%v: %v, want %v", tc.fn, tc.args, err, tc.want)
		}
	}
	_, err = a.RPC(ctx(t), "b@localhost", "fail")
	if err == nil || !strings.Contains(err.Error(), "it failed") {
		t.Errorf("fail: %v", err)
	}
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := a.RPC(short, "b@localhost", "slow", time.Minute); !errors.Is(err, proc.ErrTimeout) {
		t.Errorf("slow: %v, want timeout", err)
	}
	// A slow call does not hold up the connection's other traffic.
	if v, err := a.RPC(ctx(t), "b@localhost", "square", 3); err != nil || v != int(9) {
		t.Errorf("after slow call: %v %v", v, err)
	}
	if _, err := a.RPC(ctx(t), "nobody@localhost", "square", 3); !errors.Is(err, ErrNodeDown) {
		t.Errorf("rpc to absent node: %v", err)
	}
	rs := a.Multicall(ctx(t), []string{"b@localhost", "a@localhost", "nobody@localhost"}, "square", 4)
	if rs[0].Value != int(16) || rs[1].Value != int(16) || !errors.Is(rs[2].Err, ErrNodeDown) {
		t.Errorf("multicall: %+v", rs)
	}
}

func TestRPCNodeDownDuringCall(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := a.RPC(ctx(t), "b@localhost", "slow", time.Minute)
		errc <- err
	}()
	eventually(t, "call in flight", func() bool { a.rpc.mu.Lock(); defer a.rpc.mu.Unlock(); return len(a.rpc.pending) == 1 })
	b.Close()
	if err := <-errc; !errors.Is(err, ErrNodeDown) {
		t.Fatalf("call across a dying node: %v", err)
	}
}

func TestSpawnRemote(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	fns := b.cfg.Functions.(*Funcs)
	must(fns.Register("waiter", func(ctx context.Context) error {
		p, _, _ := ProcessFrom(ctx)
		m, err := p.Receive(ctx)
		if err != nil {
			return err
		}
		if m == "crash" {
			panic("asked to crash")
		}
		return nil
	}))
	me := attach(t, a)
	pid, ref, err := a.SpawnRemote(ctx(t), me, "b@localhost", "waiter", nil, SpawnOptions{Monitor: true})
	if err != nil {
		t.Fatal(err)
	}
	if pid.Node != "b@localhost" || !b.Proc().Alive(pid) {
		t.Fatalf("spawned %v", pid)
	}
	_ = me.Send(pid, "crash")
	d := recv(t, me).(proc.DownMsg)
	if d.Ref != ref || d.Pid != pid {
		t.Fatalf("down: %v", d)
	}
	if pr, ok := d.Reason.(proc.PanicReason); !ok || pr.Value != "asked to crash" {
		t.Fatalf("panic reason across nodes: %#v", d.Reason)
	}
	if _, _, err := a.SpawnRemote(ctx(t), me, "b@localhost", "nosuch", nil, SpawnOptions{}); !errors.Is(err, ErrUndef) {
		t.Fatalf("spawn unknown: %v", err)
	}
	// A process that ends at once still delivers its exit after the link.
	me.TrapExit(true)
	pid, _, err = a.SpawnRemote(ctx(t), me, "b@localhost", "node", nil, SpawnOptions{Link: true})
	if err != nil {
		t.Fatal(err)
	}
	if e := recv(t, me).(proc.ExitMsg); e.From != pid || e.Reason != proc.Normal {
		t.Fatalf("linked exit: %v", e)
	}
}
