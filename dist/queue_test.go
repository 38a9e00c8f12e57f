package dist

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// idleConn is a connection whose writer never runs: what is sent stays
// queued, as on a connection to a peer that takes nothing.
func idleConn(t *testing.T) *conn {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	n := &Node{cfg: Config{TickTime: time.Minute}, logf: t.Logf}
	n.ctx = context.Background()
	return newConn(n, a, bufio.NewReader(a), wire.PeerInfo{Name: "b@h", Creation: 1})
}

// A sender waiting for room on a full queue gives up when its context
// ends (an rpc's time-out), and the connection stays.
func TestSendWaitsWithContext(t *testing.T) {
	c := idleConn(t)
	for range maxQueue {
		if err := c.send(Message{Kind: KindSend}, true); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.sendCtx(ctx, Message{Kind: KindCall}) }()
	eventually(t, "the call waits for room", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.waiting == 1
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("sendCtx after cancel: %v", err)
	}
	if c.closeReason() != nil {
		t.Fatal("a sender giving up closed the connection")
	}
	// Closing wakes the other waiters with node down.
	go func() { done <- c.send(Message{Kind: KindSend}, true) }()
	eventually(t, "a send waits for room", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.waiting == 1
	})
	c.close(errors.New("test"))
	if err := <-done; !errors.Is(err, ErrNodeDown) {
		t.Fatalf("a waiting send after close: %v", err)
	}
}

// Control signals never wait, but they are bounded: past the backlog the
// connection is closed, which fires its links, instead of queueing without
// end for a peer that takes nothing.
func TestControlBacklogClosesConnection(t *testing.T) {
	c := idleConn(t)
	c.maxBacklog = 100
	for range 100 {
		if err := c.send(Message{Kind: KindDown}, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.send(Message{Kind: KindDown}, false); !errors.Is(err, ErrNodeDown) {
		t.Fatalf("a control signal past the backlog: %v", err)
	}
	if !errors.Is(c.closeReason(), errBacklog) {
		t.Fatalf("close reason %v", c.closeReason())
	}
}
