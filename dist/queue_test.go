package dist

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
)

// idleConn is a connection whose writer never runs: what is sent stays
// queued, as on a connection to a peer that takes nothing.
func idleConn(t *testing.T) *conn {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	n := &Node{cfg: Config{TickTime: time.Minute, MaxFrame: wire.DefaultMaxFrame}, logf: t.Logf, codec: NewNativeCodec()}
	n.ctx = context.Background()
	return newConn(n, a, bufio.NewReader(a), wire.PeerInfo{Name: "b@h", Creation: 1}, n.codec)
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

// A value that cannot be sent fails its sender, with an error that says
// why, whether the node is connected or not; the connection stays.
func TestUnsendableFailsSender(t *testing.T) {
	c := newCluster(t)
	small := func(cfg *Config) { cfg.MaxFrame = 4096 }
	a, b := c.start("a@localhost", small), c.start("b@localhost", small)
	sender := attach(t, a)
	target := attach(t, b)
	for _, connected := range []bool{false, true} {
		for _, v := range []any{make(chan int), strings.Repeat("x", 10000)} {
			err := sender.Send(target.Pid(), v)
			var u *UnsendableError
			if !errors.As(err, &u) || !errors.Is(err, ErrBadArgs) {
				t.Fatalf("connected=%v: send of %T: %v, want an UnsendableError", connected, v, err)
			}
			want := ErrUnencodable
			if _, ok := v.(string); ok {
				want = ErrTooLarge
			}
			if !errors.Is(err, want) || !strings.Contains(err.Error(), "b@localhost") {
				t.Fatalf("send of %T: %v, want %v naming the peer", v, err, want)
			}
		}
		if err := sender.Send(target.Pid(), "fine"); err != nil {
			t.Fatal(err)
		}
		if m := recv(t, target); m != "fine" {
			t.Fatalf("got %v", m)
		}
	}
	// An exit reason that cannot be encoded still fires the link, in its
	// printed form.
	target.TrapExit(true)
	victim, _ := a.Proc().Spawn(func(p *proc.Process) {
		_ = p.Link(target.Pid())
		_ = p.Send(target.Pid(), "linked")
		p.Exit(struct{ C chan int }{})
	})
	if m := recv(t, target); m != "linked" {
		t.Fatalf("got %v", m)
	}
	if e, ok := recv(t, target).(proc.ExitMsg); !ok || e.From != victim {
		t.Fatalf("want the exit of the linked process, got %#v", e)
	}
}
