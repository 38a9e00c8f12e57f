package proc

import (
	"errors"
	"testing"
)

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
