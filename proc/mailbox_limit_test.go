package proc

import (
	"sync/atomic"
	"testing"
	"time"
)

// idle is a process that never receives.
func idle(p *Process) { <-p.Context().Done() }

func queueLen(t *testing.T, n *Node, pid Pid) int {
	t.Helper()
	in, ok := n.Info(pid)
	if !ok {
		t.Fatalf("%v is dead", pid)
	}
	return in.MessageQueueLen
}

// A full mailbox drops the newest message; exit signals still get in.
func TestMailboxLimitDropsNewest(t *testing.T) {
	n := newNode(t)
	pid, err := n.SpawnOpt(idle, SpawnOptions{MaxMailbox: 10, TrapExit: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if err := n.Send(pid, i); err != nil {
			t.Fatal(err)
		}
	}
	if got := queueLen(t, n, pid); got != 10 {
		t.Fatalf("mailbox holds %d messages, want the limit, 10", got)
	}
	if err := n.Exit(pid, Atom("told")); err != nil {
		t.Fatal(err)
	}
	if got := queueLen(t, n, pid); got != 11 {
		t.Fatalf("mailbox holds %d after a trapped exit signal, want 11: signals are never dropped", got)
	}
}

// KillOnFull kills the receiver with reason mailbox_full.
func TestMailboxLimitKills(t *testing.T) {
	n := newNode(t)
	w, err := n.Attach(SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Exit(Normal)
	pid, err := n.SpawnOpt(idle, SpawnOptions{MaxMailbox: 5, MailboxFull: KillOnFull})
	if err != nil {
		t.Fatal(err)
	}
	ref := w.Monitor(pid)
	for i := 0; i < 6; i++ {
		_ = n.Send(pid, i)
	}
	m, err := w.ReceiveTimeout(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := m.(DownMsg); !ok || d.Ref != ref || d.Reason != MailboxFull {
		t.Fatalf("got %v, want DOWN with :mailbox_full", m)
	}
}

// The node's default applies to processes spawned without a limit of
// their own; a process's own limit wins.
func TestMailboxLimitDefault(t *testing.T) {
	n := newNode(t)
	n.SetMailboxLimit(3, DropNewest)
	a, _ := n.SpawnOpt(idle, SpawnOptions{})
	b, _ := n.SpawnOpt(idle, SpawnOptions{MaxMailbox: 7})
	for i := 0; i < 20; i++ {
		_ = n.Send(a, i)
		_ = n.Send(b, i)
	}
	if got := queueLen(t, n, a); got != 3 {
		t.Errorf("default-limited mailbox holds %d, want 3", got)
	}
	if got := queueLen(t, n, b); got != 7 {
		t.Errorf("own-limited mailbox holds %d, want 7", got)
	}
	n.SetMailboxLimit(0, DropNewest)
	c, _ := n.SpawnOpt(idle, SpawnOptions{})
	for i := 0; i < 20; i++ {
		_ = n.Send(c, i)
	}
	if got := queueLen(t, n, c); got != 20 {
		t.Errorf("unlimited mailbox holds %d, want 20", got)
	}
}

// The warning comes once, when the mailbox reaches the threshold.
func TestMailboxWarning(t *testing.T) {
	n := newNode(t)
	var calls atomic.Int32
	var at atomic.Int64
	n.SetMailboxWarning(50, func(pid Pid, length int) {
		calls.Add(1)
		at.Store(int64(length))
	})
	pid, _ := n.SpawnOpt(idle, SpawnOptions{})
	for i := 0; i < 200; i++ {
		_ = n.Send(pid, i)
	}
	if calls.Load() != 1 || at.Load() != 50 {
		t.Fatalf("warning given %d times at %d, want once at 50", calls.Load(), at.Load())
	}
}
