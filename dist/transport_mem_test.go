package dist

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// memCluster starts nodes over one MemNetwork; each node's transport is
// named after the node, for Partition.
func memCluster(t *testing.T, tick time.Duration, names ...string) (*MemNetwork, *cluster, []*Node) {
	t.Helper()
	mn := NewMemNetwork()
	c := newCluster(t)
	var nodes []*Node
	for _, name := range names {
		nodes = append(nodes, c.start(name, func(cfg *Config) {
			cfg.Transport = mn.Transport(name)
			cfg.TickTime = tick
		}))
	}
	return mn, c, nodes
}

// Three nodes in one process over a MemNetwork: connect and mesh, send,
// rpc, nodedown when a node closes.
func TestMemNetworkThreeNodes(t *testing.T) {
	_, _, ns := memCluster(t, 0, "a@localhost", "b@localhost", "c@localhost")
	a, b, c := ns[0], ns[1], ns[2]
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx(t), "a@localhost"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a full mesh", func() bool { return len(b.Nodes()) == 2 && len(c.Nodes()) == 2 })
	if got := a.ln.Addr().Network(); got != "mem" {
		t.Fatalf("a listens on %q", got)
	}

	pc := attach(t, c)
	if err := c.Proc().Register("inbox", pc.Pid()); err != nil {
		t.Fatal(err)
	}
	pa := attach(t, a)
	if err := pa.SendName(proc.Name{Name: "inbox", Node: "c@localhost"}, []any{pa.Pid(), "hello"}); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, pc).([]any); m[1] != "hello" {
		t.Fatalf("c got %v", m)
	}
	if v, err := b.RPC(ctx(t), "c@localhost", "square", 12); err != nil || v != int(144) {
		t.Fatalf("rpc b -> c: %v %v", v, err)
	}
	if v, err := c.RPC(ctx(t), "a@localhost", "big", 600_000); err != nil || len(v.(string)) != 600_000 {
		t.Fatalf("rpc c -> a, more than a pipe's buffer: %v", err)
	}

	me := attach(t, a)
	a.MonitorNodes(me.Pid(), true, false)
	c.Close()
	nd, err := receiveNodeDown(t, me, "c@localhost", waitTime)
	if err != nil {
		t.Fatalf("no nodedown for c: %v", err)
	}
	t.Logf("a: %v", nd)
	eventually(t, "b to see c go", func() bool { return len(b.Nodes()) == 1 })
}

// A partition between a and b: each finds the other silent within the
// tick time (c, connected to both, stays up), a dial across it fails at
// once, and after Heal they connect again.
func TestMemNetworkPartition(t *testing.T) {
	const tick = time.Second
	mn, a, b, c, ma, mb := memMeshOfThree(t, tick)

	mn.Partition("a@localhost", "b@localhost")
	start := time.Now()
	for _, w := range []struct {
		me   *proc.Process
		peer string
	}{{ma, "b@localhost"}, {mb, "a@localhost"}} {
		nd, err := receiveNodeDown(t, w.me, w.peer, waitTime)
		if err != nil {
			t.Fatalf("no nodedown for %s: %v", w.peer, err)
		}
		if nd.Reason != "net_tick_timeout" {
			t.Errorf("nodedown %s: reason %q, want net_tick_timeout", w.peer, nd.Reason)
		}
	}
	if d := time.Since(start); d > 3*tick {
		t.Errorf("partition noticed after %v, tick time %v", d, tick)
	}
	if got := c.Nodes(); len(got) != 2 {
		t.Errorf("c lost a node in a partition between a and b: %v", got)
	}
	// The mesh cannot route around it: a dial across fails at once.
	if err := a.Connect(ctx(t), "b@localhost"); !errors.Is(err, ErrMemUnreachable) {
		t.Fatalf("connect across the partition: %v", err)
	}

	mn.Heal("a@localhost", "b@localhost")
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatalf("connect after heal: %v", err)
	}
	if v, err := b.RPC(ctx(t), "a@localhost", "square", 5); err != nil || v != int(25) {
		t.Fatalf("rpc after heal: %v %v", v, err)
	}
}

// A one-way cut: b hears nothing from a, while a still hears b. b drops a
// after its tick time (net_tick_timeout); a, which still gets b's ticks,
// learns of it when b closes the connection. c, connected to both, stays.
func TestMemNetworkOneWayPartition(t *testing.T) {
	const tick = time.Second
	mn, a, b, c, ma, mb := memMeshOfThree(t, tick)

	mn.PartitionOneWay("a@localhost", "b@localhost")
	nd, err := receiveNodeDown(t, mb, "a@localhost", waitTime)
	if err != nil || nd.Reason != "net_tick_timeout" {
		t.Fatalf("b: nodedown of a %v %v, want net_tick_timeout", nd, err)
	}
	if nd, err := receiveNodeDown(t, ma, "b@localhost", waitTime); err != nil {
		t.Fatalf("a: no nodedown of b: %v %v", nd, err)
	}
	if got := c.Nodes(); len(got) != 2 {
		t.Errorf("c lost a node in a one-way cut between a and b: %v", got)
	}
	for _, from := range []*Node{a, b} {
		to := "b@localhost"
		if from == b {
			to = "a@localhost"
		}
		if err := from.Connect(ctx(t), to); !errors.Is(err, ErrMemUnreachable) {
			t.Fatalf("%s connects to %s across a one-way cut: %v", from.Name(), to, err)
		}
	}
	mn.HealOneWay("a@localhost", "b@localhost")
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatalf("connect after heal: %v", err)
	}
}

// memMeshOfThree starts a, b and c on a MemNetwork with the tick time
// tick, meshed, and a process on a and one on b watching nodes.
func memMeshOfThree(t *testing.T, tick time.Duration) (mn *MemNetwork, a, b, c *Node, ma, mb *proc.Process) {
	t.Helper()
	mn, _, ns := memCluster(t, tick, "a@localhost", "b@localhost", "c@localhost")
	a, b, c = ns[0], ns[1], ns[2]
	for _, n := range []*Node{b, c} {
		if err := a.Connect(ctx(t), n.Name()); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "a full mesh", func() bool { return len(b.Nodes()) == 2 && len(c.Nodes()) == 2 })
	ma, mb = attach(t, a), attach(t, b)
	a.MonitorNodes(ma.Pid(), true, false)
	b.MonitorNodes(mb.Pid(), true, false)
	return mn, a, b, c, ma, mb
}

func memConnPair(t *testing.T) (dialer, acceptor net.Conn, mn *MemNetwork) {
	t.Helper()
	mn = NewMemNetwork()
	ln, err := mn.Transport("srv").Listen("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	d, err := mn.Transport("cli").Dial(ctx(t), ln.Addr().String(), "srv@x")
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); a.Close() })
	return d, a, mn
}

// The conn contract the node relies on: ordered bytes both ways, writes
// buffered up to a bound, deadlines that fail with os.ErrDeadlineExceeded
// and can be moved while a read waits, EOF after the peer closes,
// net.ErrClosed after our own close.
func TestMemConn(t *testing.T) {
	d, a, mn := memConnPair(t)
	msg := bytes.Repeat([]byte("0123456789"), 100_000) // more than the buffer
	done := make(chan error, 1)
	go func() {
		_, err := d.Write(msg)
		done <- err
	}()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(a, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("read: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A read deadline, and one moved away while the read waits.
	_ = a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := a.Read(got); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	_ = a.SetReadDeadline(time.Time{})
	go func() {
		_, _ = d.Write([]byte("late"))
	}()
	if k, err := a.Read(got); err != nil || string(got[:k]) != "late" {
		t.Fatalf("read after clearing the deadline: %q %v", got[:k], err)
	}

	// A write deadline once the buffer is full.
	_ = d.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := d.Write(make([]byte, 2*memBuffer)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past the deadline: %v", err)
	}
	_ = d.SetWriteDeadline(time.Time{})
	if _, err := io.ReadFull(a, make([]byte, memBuffer)); err != nil {
		t.Fatal(err)
	}

	// A partition holds bytes; Heal delivers them.
	mn.Partition("cli", "srv")
	if _, err := d.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	_ = a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := a.Read(got); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read across a partition: %v", err)
	}
	_ = a.SetReadDeadline(time.Time{})
	mn.Heal("cli", "srv")
	if k, err := a.Read(got); err != nil || string(got[:k]) != "held" {
		t.Fatalf("read after heal: %q %v", got[:k], err)
	}

	d.Close()
	if _, err := a.Read(got); err != io.EOF {
		t.Fatalf("read after the peer closed: %v", err)
	}
	if _, err := a.Write([]byte("x")); err == nil {
		t.Fatal("write to a closed peer succeeded")
	}
	if _, err := d.Read(got); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if _, err := mn.Transport("cli").Dial(ctx(t), "localhost:1", "x@y"); err == nil {
		t.Fatal("dial to no listener succeeded")
	}
}
