package dist

import (
	"errors"
	"strings"
	"testing"
)

// RPCServed counts the peers' calls and casts a node dealt with, and those
// that failed (an error, a panic, a refusal); the node's calls to itself
// are not a peer's.
func TestRPCServedCounts(t *testing.T) {
	c := newCluster(t)
	b := c.start("statsb@localhost", func(cfg *Config) { cfg.RPCAllow = []string{"square", "fail", "boom"} })
	a := c.start("statsa@localhost")
	if got := b.RPCServed(); got != (RPCStats{}) {
		t.Fatalf("a new node has served %+v", got)
	}
	if v, err := a.RPC(ctx(t), b.Name(), "square", 3); err != nil || v != int(9) {
		t.Fatalf("square: %v, %v", v, err)
	}
	if _, err := a.RPC(ctx(t), b.Name(), "fail"); err == nil {
		t.Fatal("fail did not fail")
	}
	if _, err := a.RPC(ctx(t), b.Name(), "boom"); err == nil {
		t.Fatal("boom did not fail")
	}
	if _, err := a.RPC(ctx(t), b.Name(), "big", 1); !errors.Is(err, ErrRefusedCall) {
		t.Fatalf("big: %v, want ErrRefusedCall", err)
	}
	if got, want := b.RPCServed(), (RPCStats{Served: 4, Failed: 3}); got != want {
		t.Fatalf("after 4 calls, 3 failing: %+v, want %+v", got, want)
	}
	if err := a.Cast(ctx(t), b.Name(), "square", 2); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cast counted", func() bool { return b.RPCServed() == RPCStats{Served: 5, Failed: 3} })
	if _, err := b.RPC(ctx(t), b.Name(), "fail"); err == nil {
		t.Fatal("a local fail did not fail")
	}
	if got := b.RPCServed(); got != (RPCStats{Served: 5, Failed: 3}) {
		t.Fatalf("a local call was counted: %+v", got)
	}
	if got := a.RPCServed(); got != (RPCStats{}) {
		t.Fatalf("the caller counted its own calls as served: %+v", got)
	}
}

// Peers reports each connection's traffic: what one side queued for the
// other is what the other read, messages and bytes, and a message's bytes
// are counted whole.
func TestPeersTraffic(t *testing.T) {
	c := newCluster(t)
	a := c.start("trafa@localhost")
	b := c.start("trafb@localhost")
	h := c.start("trafh@localhost", func(cfg *Config) { cfg.Hidden = true })
	if got := a.Peers(); len(got) != 0 {
		t.Fatalf("a node without connections has peers %+v", got)
	}
	if err := a.Connect(ctx(t), b.Name()); err != nil {
		t.Fatal(err)
	}
	if err := h.Connect(ctx(t), a.Name()); err != nil {
		t.Fatal(err)
	}
	// Connect returns once the dialing side is up; the accepting side
	// may take a moment longer.
	has := func(n *Node, name string) bool {
		for _, p := range n.Peers() {
			if p.Name == name {
				return true
			}
		}
		return false
	}
	eventually(t, "both sides of both connections up", func() bool {
		return has(a, b.Name()) && has(b, a.Name()) && has(a, h.Name()) && has(h, a.Name())
	})
	peer := func(n *Node, name string) PeerStats {
		for _, p := range n.Peers() {
			if p.Name == name {
				return p
			}
		}
		t.Fatalf("%s has no connection to %s: %+v", n.Name(), name, n.Peers())
		return PeerStats{}
	}
	// Balanced: what each side counts out the other has counted in (the
	// set-up's own messages, if any, included).
	balanced := func() bool {
		ab, ba := peer(a, b.Name()), peer(b, a.Name())
		return ab.MessagesOut == ba.MessagesIn && ab.BytesOut == ba.BytesIn &&
			ba.MessagesOut == ab.MessagesIn && ba.BytesOut == ab.BytesIn
	}
	eventually(t, "the set-up's traffic to settle", balanced)
	before := peer(a, b.Name())

	sink := attach(t, b)
	src := attach(t, a)
	payload := strings.Repeat("x", 1000)
	for range 5 {
		if err := src.Send(sink.Pid(), payload); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		if m := recv(t, sink); m != payload {
			t.Fatalf("received %v", m)
		}
	}
	eventually(t, "the sends to be counted on both sides", balanced)
	after := peer(a, b.Name())
	if d := after.MessagesOut - before.MessagesOut; d != 5 {
		t.Errorf("a counted %d messages out for 5 sends", d)
	}
	if d := after.BytesOut - before.BytesOut; d < 5*1000 || d > 5*1200 {
		t.Errorf("a counted %d bytes out for 5 sends of 1000 bytes", d)
	}
	if after.Since.IsZero() || after.Hidden {
		t.Errorf("the connection to b: %+v", after)
	}
	if !peer(a, h.Name()).Hidden || !peer(h, a.Name()).Hidden {
		t.Errorf("the hidden node's connection is not marked hidden: %+v, %+v", peer(a, h.Name()), peer(h, a.Name()))
	}

	a.Disconnect(b.Name())
	eventually(t, "b to leave a's peers", func() bool { return !has(a, b.Name()) })
}
