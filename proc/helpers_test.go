package proc

import (
	"context"
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
