package dist

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
)

// A half-open connection: b still holds a connection from a's incarnation
// that a has lost (its host rebooted the socket, a NAT forgot it). When a
// dials again with the same creation, b asks it whether the old connection
// lives, as Erlang does, and replaces it once a has proved the cookie,
// instead of refusing a until the ticks find the dead one.
func TestHalfOpenConnectionReplacedAtOnce(t *testing.T) {
	a, b, old := connectedPair(t)
	watcher := attach(t, b)
	b.MonitorNodes(watcher.Pid(), true, false)

	// a's incarnation dials b again, its old connection gone on its side.
	asked := false
	if err := dialAgainAs(t, a, b, func(string) bool { asked = true; return true }); err != nil {
		t.Fatalf("the dialer of a half-open connection was refused: %v", err)
	}
	if !asked {
		t.Fatal("b did not ask whether the old connection lives")
	}
	if m, ok := recv(t, watcher).(NodeDown); !ok || m.Node != "a@localhost" {
		t.Fatalf("want nodedown of the old connection first, got %#v", m)
	}
	if m, ok := recv(t, watcher).(NodeUp); !ok || m.Node != "a@localhost" {
		t.Fatalf("want nodeup of the new connection, got %#v", m)
	}
	if cur := b.connFor("a@localhost"); cur == nil || cur == old {
		t.Fatal("the half-open connection was not replaced")
	}
}

// The same question answered "alive" (both nodes dialled and the other
// attempt got through) stops the handshake and disturbs nothing.
func TestAliveAnsweredAliveKeepsConnection(t *testing.T) {
	a, b, old := connectedPair(t)
	err := dialAgainAs(t, a, b, func(string) bool { return false })
	if re, ok := err.(*wire.RefusedError); !ok || re.Status != wire.StatusAlive {
		t.Fatalf("want refused alive, got %v", err)
	}
	eventually(t, "b's reservation ends", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		p := b.table.peers["a@localhost"]
		return p != nil && !p.accepting
	})
	if b.connFor("a@localhost") != old || isClosed(old) {
		t.Fatal("an answer of alive disturbed the connection")
	}
}

// connectedPair starts a and b, connects them, and returns b's connection
// from a once b has it.
func connectedPair(t *testing.T) (a, b *Node, fromA *conn) {
	t.Helper()
	c := newCluster(t)
	a, b = c.start("a@localhost"), c.start("b@localhost")
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b has the connection from a", func() bool { return b.connFor("a@localhost") != nil })
	return a, b, b.connFor("a@localhost")
}

// dialAgainAs dials b as a's incarnation (a raw handshake with a's name,
// creation and cookie), answering b's alive question with aliveAsked.
func dialAgainAs(t *testing.T, a, b *Node, aliveAsked func(string) bool) error {
	t.Helper()
	nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", b.Port()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(waitTime))
	cfg := wire.HandshakeConfig{Name: a.Name(), Creation: a.Proc().Creation(), Cookie: "secret", AliveAsked: aliveAsked}
	_, err = wire.Initiate(nc, bufio.NewReader(nc), cfg, b.Name())
	return err
}

// Signals sent to a node that is not yet connected do not wait for the
// connection: they queue, in order, and go first once it is up.
func TestSendsQueueWhileConnecting(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	target := attach(t, b)
	sender := attach(t, a)
	ref := sender.Monitor(target.Pid())
	const n = 1000
	for i := range n {
		if err := sender.Send(target.Pid(), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if m := recv(t, target); m != int(i) {
			t.Fatalf("message %d is %v", i, m)
		}
	}
	// The monitor queued with them: it fires when target exits.
	target.Exit("bye")
	if d, ok := recv(t, sender).(proc.DownMsg); !ok || d.Ref != ref {
		t.Fatalf("want DOWN for the monitor made while connecting, got %#v", d)
	}
}
