package dist

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
)

// rawHello is the native handshake's hello as bytes, built by hand so that
// the tests speak the wire format as an attacker would:
// [Len:u16][1]["GOND"][Version:u16][Creation:u32][Flags:u64][Hidden:u8][NameLen:u16][Name].
func rawHello(name string, creation uint32) []byte {
	b := []byte{0, 0, 1}
	b = append(b, wire.Magic...)
	b = binary.BigEndian.AppendUint16(b, wire.Version)
	b = binary.BigEndian.AppendUint32(b, creation)
	b = binary.BigEndian.AppendUint64(b, 0)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(name)))
	b = append(b, name...)
	binary.BigEndian.PutUint16(b, uint16(len(b)-2))
	return b
}

// readHandshakeMessage reads one [Len:u16][Body] handshake message.
func readHandshakeMessage(t *testing.T, br *bufio.Reader) []byte {
	t.Helper()
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		t.Fatalf("reading a handshake message: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatalf("reading a handshake message: %v", err)
	}
	return body
}

// noMessage fails if p has a message: what the node does on a connection's
// teardown it does before the call that caused it returns, so by the time
// a check runs anything it sent is already in the mailbox.
func noMessage(t *testing.T, p *proc.Process, when string) {
	t.Helper()
	if m, err := p.ReceiveTimeout(0); err == nil {
		t.Fatalf("%s: unexpected message %#v", when, m)
	}
}

// linkedOn waits until the process pid on node n has exactly k links.
func linkedOn(t *testing.T, n *Node, pid proc.Pid, k int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d link(s) on %v", k, pid), func() bool {
		info, ok := n.Proc().Info(pid)
		return ok && len(info.Links) == k
	})
}

func isClosed(c *conn) bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// A hello claiming the name of a connected peer, with another creation,
// from someone without the cookie: the live connection stays up while the
// handshake is pending and after it fails, and the log names the attempt.
func TestSpoofedHelloKeepsConnection(t *testing.T) {
	for _, mode := range []string{"bad digest", "hang up"} {
		t.Run(strings.ReplaceAll(mode, " ", "_"), func(t *testing.T) {
			c := newCluster(t)
			a, b := c.start("a@localhost"), c.start("b@localhost")
			me := attach(t, a)
			me.TrapExit(true)
			sleeper, _ := b.Proc().Spawn(func(p *proc.Process) { _, _ = p.Receive(nil) })
			if err := me.Link(sleeper); err != nil {
				t.Fatal(err)
			}
			linkedOn(t, b, sleeper, 1)
			a.MonitorNodes(me.Pid(), true, false)
			live := a.connFor("b@localhost")
			if live == nil {
				t.Fatal("not connected to b")
			}
			unchanged := func(when string) {
				t.Helper()
				if got := a.connFor("b@localhost"); got != live || isClosed(live) {
					t.Fatalf("%s: the connection to b was replaced or closed", when)
				}
				if got := a.Nodes(); !slices.Equal(got, []string{"b@localhost"}) {
					t.Fatalf("%s: Nodes() = %v", when, got)
				}
				noMessage(t, me, when)
			}

			nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", a.Port()))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(waitTime))
			if _, err := nc.Write(rawHello("b@localhost", b.Proc().Creation()+1)); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(nc)
			// The status and the challenge: a has decided on the hello.
			if st := readHandshakeMessage(t, br); !slices.Equal(st, []byte{2, byte(wire.StatusOK)}) {
				t.Fatalf("status: %v", st)
			}
			if ch := readHandshakeMessage(t, br); len(ch) == 0 || ch[0] != 3 {
				t.Fatalf("challenge: %v", ch)
			}
			unchanged("handshake pending")

			switch mode {
			case "bad digest":
				reply := make([]byte, 2+1+wire.NonceLen+wire.DigestLen)
				binary.BigEndian.PutUint16(reply, uint16(len(reply)-2))
				reply[2] = 4
				if _, err := nc.Write(reply); err != nil {
					t.Fatal(err)
				}
				if m := readHandshakeMessage(t, br); !slices.Equal(m, []byte{6}) {
					t.Fatalf("answer to a wrong digest: %v", m)
				}
				eventually(t, "a logs the refused attempt", func() bool {
					l := c.logs.text()
					return strings.Contains(l, "from b@localhost") && strings.Contains(l, "cookie")
				})
			case "hang up":
				nc.Close()
				eventually(t, "a logs the failed attempt", func() bool {
					return strings.Contains(c.logs.text(), "with b@localhost")
				})
			}
			eventually(t, "the attempt ends", func() bool {
				a.mu.Lock()
				defer a.mu.Unlock()
				p := a.table.peers["b@localhost"]
				return p != nil && !p.accepting
			})
			if v, err := a.RPC(ctx(t), "b@localhost", "square", 3); err != nil || v != int(9) {
				t.Fatalf("rpc over the live connection: %v %v", v, err)
			}
			unchanged("handshake failed")
			linkedOn(t, b, sleeper, 1)
			if l := c.logs.text(); strings.Contains(l, "secret") {
				t.Fatalf("a cookie leaked into the logs: %s", l)
			}
		})
	}
}

// startRestarted starts a second node named b@localhost, as a restart of the
// peer would, while the first one is still up: it runs under its own port
// mapper, in which a is registered by hand, so that it can dial a.
func startRestarted(t *testing.T, a, b1 *Node) *Node {
	t.Helper()
	c2 := newCluster(t)
	b2 := c2.start("b@localhost")
	if b2.Proc().Creation() == b1.Proc().Creation() {
		t.Skip("the two port mappers gave the same creation; the test needs two incarnations")
	}
	reg, err := epmd.Register(ctx(t), c2.epmd, "a", uint16(a.Port()), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return b2
}

// A real restart of the peer (a new creation, the right cookie) replaces
// the connection: the old one's links fire and its rpcs fail, nodedown
// comes before nodeup, and nothing made over the new connection is
// touched by the old one's teardown, even if it ran late.
func TestRestartedPeerReplacesConnection(t *testing.T) {
	c := newCluster(t)
	a, b1 := c.start("a@localhost"), c.start("b@localhost")
	me := attach(t, a)
	me.TrapExit(true)
	a.MonitorNodes(me.Pid(), true, false)
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, me); m != (NodeUp{Node: "b@localhost"}) {
		t.Fatalf("first message: %#v", m)
	}
	old := a.connFor("b@localhost")
	sleeper1, _ := b1.Proc().Spawn(func(p *proc.Process) { _, _ = p.Receive(nil) })
	if err := me.Link(sleeper1); err != nil {
		t.Fatal(err)
	}
	linkedOn(t, b1, sleeper1, 1)
	oldRPC := make(chan error, 1)
	go func() {
		_, err := a.RPC(ctx(t), "b@localhost", "slow", time.Hour)
		oldRPC <- err
	}()
	eventually(t, "the rpc pending on the old connection", func() bool {
		a.rpc.mu.Lock()
		defer a.rpc.mu.Unlock()
		return len(a.rpc.pending) == 1
	})

	b2 := startRestarted(t, a, b1)
	if err := b2.Connect(ctx(t), "a@localhost"); err != nil {
		t.Fatalf("the restarted peer connects: %v\n%s", err, c.logs.text())
	}
	var events []string
	for len(events) < 3 {
		switch m := recv(t, me).(type) {
		case proc.ExitMsg:
			if m.From != sleeper1 || m.Reason != proc.NoConnection {
				t.Fatalf("exit: %#v", m)
			}
			events = append(events, "exit")
		case NodeDown:
			if m.Node != "b@localhost" {
				t.Fatalf("nodedown: %#v", m)
			}
			events = append(events, "nodedown")
		case NodeUp:
			if m.Node != "b@localhost" {
				t.Fatalf("nodeup: %#v", m)
			}
			events = append(events, "nodeup")
		default:
			t.Fatalf("unexpected message %#v", m)
		}
	}
	if !slices.Equal(events, []string{"exit", "nodedown", "nodeup"}) {
		t.Fatalf("events in order %v, want exit, nodedown, nodeup", events)
	}
	select {
	case err := <-oldRPC:
		if !errors.Is(err, ErrNodeDown) {
			t.Fatalf("the rpc pending on the old connection: %v", err)
		}
	case <-time.After(waitTime):
		t.Fatal("the rpc pending on the old connection never failed")
	}
	if !isClosed(old) {
		t.Fatal("the old connection is still open")
	}
	cur := a.connFor("b@localhost")
	if cur == nil || cur == old || cur.peer.Creation != b2.Proc().Creation() {
		t.Fatal("the connection to b is not the restarted peer's")
	}

	// Over the new connection: a link and a pending rpc.
	sleeper2, _ := b2.Proc().Spawn(func(p *proc.Process) { _, _ = p.Receive(nil) })
	if err := me.Link(sleeper2); err != nil {
		t.Fatal(err)
	}
	linkedOn(t, b2, sleeper2, 1)
	newRPC := make(chan error, 1)
	go func() {
		_, err := a.RPC(ctx(t), "b@localhost", "slow", time.Hour)
		newRPC <- err
	}()
	eventually(t, "the rpc pending on the new connection", func() bool {
		a.rpc.mu.Lock()
		defer a.rpc.mu.Unlock()
		return len(a.rpc.pending) == 1
	})

	// The old connection's reader ending late, after the new one is up,
	// must touch nothing: teardown is keyed by connection.
	a.connDown(old, errors.New("late"))
	if got := a.connFor("b@localhost"); got != cur || isClosed(cur) {
		t.Fatal("a late end of the old connection disturbed the new one")
	}
	if got := a.Nodes(); !slices.Equal(got, []string{"b@localhost"}) {
		t.Fatalf("Nodes() = %v", got)
	}
	noMessage(t, me, "after the old connection's late end")
	linkedOn(t, b2, sleeper2, 1)
	select {
	case err := <-newRPC:
		t.Fatalf("the rpc pending on the new connection ended: %v", err)
	default:
	}
	if v, err := a.RPC(ctx(t), "b@localhost", "square", 4); err != nil || v != int(16) {
		t.Fatalf("rpc over the new connection: %v %v", v, err)
	}

	// The new connection's own end still tears down what was made over it.
	a.Disconnect("b@localhost")
	got := map[string]int{}
	for range 2 {
		switch m := recv(t, me).(type) {
		case proc.ExitMsg:
			if m.From == sleeper2 && m.Reason == proc.NoConnection {
				got["exit"]++
			}
		case NodeDown:
			got["nodedown"]++
		}
	}
	if got["exit"] != 1 || got["nodedown"] != 1 {
		t.Fatalf("after disconnecting the new connection: %v", got)
	}
	if err := <-newRPC; !errors.Is(err, ErrNodeDown) {
		t.Fatalf("the rpc pending on the new connection: %v", err)
	}
	noMessage(t, me, "after the disconnect")
}

// gatedWriter passes writes through until its count of free writes is
// used up, then waits for gate before each further one.
type gatedWriter struct {
	w    io.Writer
	free int
	gate chan struct{}
}

func (g *gatedWriter) Write(b []byte) (int, error) {
	if g.free == 0 {
		<-g.gate
	} else {
		g.free--
	}
	return g.w.Write(b)
}

// The old connection dies while a new incarnation is in its handshake: its
// teardown runs (nodedown) and the record is kept for the newcomer, whose
// connection then comes up (nodeup), in that order.
func TestOldConnectionDiesDuringReplacement(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	me := attach(t, a)
	me.TrapExit(true)
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	a.MonitorNodes(me.Pid(), true, false)

	nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", a.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(waitTime))
	// The newcomer sends its hello and reads the challenge, then waits
	// for the gate before its reply: the replacement is pending.
	w := &gatedWriter{w: nc, free: 1, gate: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		cfg := wire.HandshakeConfig{Name: "b@localhost", Creation: b.Proc().Creation() + 1, Cookie: "secret"}
		_, err := wire.Initiate(w, bufio.NewReader(nc), cfg, "a@localhost")
		done <- err
	}()
	eventually(t, "the replacement is pending", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		p := a.table.peers["b@localhost"]
		return p != nil && p.accepting && p.conn != nil
	})
	if !a.Disconnect("b@localhost") {
		t.Fatal("not connected to b")
	}
	if m, ok := recv(t, me).(NodeDown); !ok || m.Node != "b@localhost" {
		t.Fatalf("want nodedown, got %#v", m)
	}
	if got := a.Nodes(); len(got) != 0 {
		t.Fatalf("Nodes() after the old connection ended: %v", got)
	}
	close(w.gate)
	if err := <-done; err != nil {
		t.Fatalf("the newcomer's handshake: %v", err)
	}
	if m, ok := recv(t, me).(NodeUp); !ok || m.Node != "b@localhost" {
		t.Fatalf("want nodeup, got %#v", m)
	}
	cur := a.connFor("b@localhost")
	if cur == nil || cur.peer.Creation != b.Proc().Creation()+1 {
		t.Fatal("the connection to b is not the newcomer's")
	}
	noMessage(t, me, "after the replacement")
}
