package dist

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gonode/gonode/dist/wire"
)

// The peer table's rules, driven by scripted event sequences with no
// sockets, goroutines or timers: each test is one of the races that real
// networks produce, in an order chosen to be the awkward one.

// tableConn is a connection as the table sees it: a peer and a queue.
func tableConn(name string, creation uint32) *conn {
	n := &Node{cfg: Config{MaxFrame: wire.DefaultMaxFrame}, logf: func(string, ...any) {}, codec: NewNativeCodec()}
	return &conn{n: n, codec: n.codec, peer: wire.PeerInfo{Name: name, Creation: creation}, kick: make(chan struct{}, 1)}
}

func hello(name string, creation uint32, flags uint64) wire.PeerInfo {
	return wire.PeerInfo{Name: name, Creation: creation, Flags: flags}
}

// kinds lists the action kinds, and checks each action's connection.
func wantActions(t *testing.T, step string, got []action, want ...action) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d actions %+v, want %d %+v", step, len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].kind != want[i].kind || (want[i].c != nil && got[i].c != want[i].c) {
			t.Fatalf("%s: action %d is %+v, want %+v", step, i, got[i], want[i])
		}
	}
}

func isReady(p *peer) bool {
	select {
	case <-p.ready:
		return true
	default:
		return false
	}
}

// upTable makes a table whose record for b holds c, up.
func upTable(t *testing.T, c *conn) (*peerTable, *peer) {
	t.Helper()
	tb := newPeerTable("a@h")
	p, dial := tb.connect(c.peer.Name)
	if !dial {
		t.Fatal("a new record must be dialled")
	}
	acts := tb.handshook(p, c, false)
	wantActions(t, "handshook", acts, action{kind: actStart, c: c})
	if p.conn != c || acts[0].ready != p.ready {
		t.Fatal("the record is not up")
	}
	if isReady(p) {
		t.Fatal("ready closed before the node told the watchers")
	}
	close(acts[0].ready) // what Node.run does after start

	return &tb, p
}

func TestTableSimultaneousConnect(t *testing.T) {
	// a and b dial each other at once. a's name sorts first, so b's
	// attempt wins: a's hello handler says ok to b (dropping its own
	// attempt to the answer nok it gets), and b says nok to a.
	ta := newPeerTable("a@h")
	pa, dial := ta.connect("b@h")
	if !dial {
		t.Fatal("a must dial")
	}
	pb, st := ta.hello(hello("b@h", 1, 0))
	if st != wire.StatusOK || pb != pa {
		t.Fatalf("a answers b's hello %v", st)
	}
	// a's own attempt gets nok from b and ends; the record stays for
	// the accepted one.
	wantActions(t, "a's dial refused", ta.failed(pa, errors.New("nok"), false))
	if isReady(pa) {
		t.Fatal("the record went while b's attempt is in its handshake")
	}
	c := tableConn("b@h", 1)
	wantActions(t, "b's attempt through", ta.handshook(pa, c, true), action{kind: actStart, c: c})

	tb := newPeerTable("b@h")
	tb.connect("a@h")
	if _, st := tb.hello(hello("a@h", 1, 0)); st != wire.StatusNok {
		t.Fatalf("b answers a's hello %v, want nok", st)
	}
	// A second hello while one is in its handshake: nok.
	if _, st := ta.hello(hello("c@h", 1, 0)); st != wire.StatusOK {
		t.Fatal("a new peer is refused")
	}
	if _, st := ta.hello(hello("c@h", 1, 0)); st != wire.StatusNok {
		t.Fatalf("a second hello in the handshake got %v", st)
	}
}

func TestTableReplacementByNewIncarnation(t *testing.T) {
	old := tableConn("b@h", 1)
	tb, p := upTable(t, old)
	np, st := tb.hello(hello("b@h", 2, 0))
	if st != wire.StatusOK || np != p {
		t.Fatalf("hello of a new incarnation: %v", st)
	}
	if p.conn != old {
		t.Fatal("an unauthenticated hello touched the live connection")
	}
	c := tableConn("b@h", 2)
	wantActions(t, "newcomer authenticated", tb.handshook(p, c, true), action{kind: actClose, c: old})
	if p.conn != old || p.next != c {
		t.Fatal("the newcomer must wait for the old connection's end")
	}
	wantActions(t, "old ends", tb.down(old, errReplaced), action{kind: actTeardown, c: old})
	if p.conn != nil {
		t.Fatal("senders can see a connection while the old one's links fire")
	}
	acts := tb.tornDown(old)
	wantActions(t, "old torn down", acts, action{kind: actStart, c: c})
	if p.conn != c || acts[0].ready != p.ready || isReady(p) {
		t.Fatal("the newcomer is not up, or its ready was closed before nodeup")
	}
	// The old connection's reader reporting again changes nothing.
	wantActions(t, "late end of old", tb.down(old, errors.New("late")))
	wantActions(t, "late teardown of old", tb.tornDown(old))
	if p.conn != c {
		t.Fatal("a late event of the old connection touched the new one")
	}
}

func TestTableUnauthenticatedHelloChangesNothing(t *testing.T) {
	old := tableConn("b@h", 1)
	tb, p := upTable(t, old)
	for _, creation := range []uint32{1, 2} {
		q, st := tb.hello(hello("b@h", creation, wire.FlagAliveAsk))
		if q == nil {
			t.Fatalf("creation %d: status %v without a reservation", creation, st)
		}
		// The digest does not match: the handshake fails.
		wantActions(t, "spoofed hello fails", tb.failed(q, wire.ErrBadCookie, true))
		if p.conn != old || p.accepting || tb.peers["b@h"] != p {
			t.Fatalf("creation %d: a failed hello disturbed the live connection", creation)
		}
	}
}

func TestTableHalfOpenConnection(t *testing.T) {
	// b's node holds a connection from a that a no longer has (a's side
	// saw it die). a dials again: b answers alive and asks.
	old := tableConn("a@h", 1)
	tb := newPeerTable("b@h")
	p, _ := tb.connect("a@h")
	tb.handshook(p, old, false)

	// A dialer that cannot be asked is refused, as before.
	if q, st := tb.hello(hello("a@h", 1, 0)); st != wire.StatusAlive || q != nil {
		t.Fatalf("hello without FlagAliveAsk: %v %v", q, st)
	}
	q, st := tb.hello(hello("a@h", 1, wire.FlagAliveAsk))
	if st != wire.StatusAlive || q != p {
		t.Fatalf("hello from a dialer that can be asked: %v", st)
	}
	// The dialer's side: nothing up there, so it answers dead.
	ta := newPeerTable("a@h")
	ta.connect("b@h")
	if !ta.aliveAsked("b@h") {
		t.Fatal("a dialer with no connection must say the old one is dead")
	}
	// The handshake goes on and proves the cookie: a replacement.
	c := tableConn("a@h", 1)
	wantActions(t, "dialer authenticated", tb.handshook(q, c, true), action{kind: actClose, c: old})
	wantActions(t, "half-open end", tb.down(old, errReplaced), action{kind: actTeardown, c: old})
	wantActions(t, "torn down", tb.tornDown(old), action{kind: actStart, c: c})

	// A dialer whose connection is up (both dialled; the other attempt got
	// through) says alive: the peer stops.
	up := tableConn("b@h", 1)
	pa := ta.peers["b@h"]
	ta.handshook(pa, up, true)
	if ta.aliveAsked("b@h") {
		t.Fatal("a dialer whose connection is up must say it lives")
	}
}

func TestTableNodedownRacesNodeup(t *testing.T) {
	// The connection ends; while its links fire, the peer connects again
	// and gets through the handshake. It must not start (and nodeup must
	// not be told) before the old teardown is over.
	old := tableConn("b@h", 1)
	tb, p := upTable(t, old)
	wantActions(t, "old ends", tb.down(old, errors.New("eof")), action{kind: actTeardown, c: old})
	q, st := tb.hello(hello("b@h", 2, 0))
	if st != wire.StatusOK || q != p {
		t.Fatalf("hello during teardown: %v", st)
	}
	c := tableConn("b@h", 2)
	wantActions(t, "newcomer through during teardown", tb.handshook(q, c, true))
	if p.conn != nil {
		t.Fatal("the newcomer started during the old teardown")
	}
	wantActions(t, "teardown over", tb.tornDown(old), action{kind: actStart, c: c})
	if p.conn != c {
		t.Fatal("the newcomer did not start")
	}
}

func TestTableOldDiesDuringReplacement(t *testing.T) {
	// The old connection ends by itself while the newcomer is in its
	// handshake; then the newcomer fails the cookie.
	old := tableConn("b@h", 1)
	tb, p := upTable(t, old)
	q, _ := tb.hello(hello("b@h", 2, 0))
	wantActions(t, "old ends", tb.down(old, errors.New("eof")), action{kind: actTeardown, c: old})
	wantActions(t, "teardown over, newcomer still in handshake", tb.tornDown(old))
	if tb.peers["b@h"] != p || isReady(p) {
		t.Fatal("the record must wait for the newcomer")
	}
	wantActions(t, "newcomer fails", tb.failed(q, wire.ErrBadCookie, true), action{kind: actFailed})
	if tb.peers["b@h"] != nil || !isReady(p) || !errors.Is(p.err, wire.ErrBadCookie) {
		t.Fatal("the record must go with the error")
	}
}

func TestTableSignalsQueueWhileConnecting(t *testing.T) {
	tb := newPeerTable("a@h")
	p, dial := tb.connect("b@h")
	if !dial {
		t.Fatal("must dial")
	}
	if _, again := tb.connect("b@h"); again {
		t.Fatal("a second connect must wait for the first, not dial again")
	}
	for i := range 3 {
		if !tb.queue(p, Message{Kind: KindSend, Payload: int64(i)}, true) {
			t.Fatal("queue refused a send")
		}
	}
	tb.queue(p, Message{Kind: KindLink}, false)
	c := tableConn("b@h", 1)
	c.mu.Lock() // the table must not need c's lock held by anyone else
	c.mu.Unlock()
	wantActions(t, "up", tb.handshook(p, c, false), action{kind: actStart, c: c})
	var got []Message
	for b := c.queue; len(b) > 0; {
		k := int(binary.BigEndian.Uint32(b))
		m, err := c.codec.Decode(b[4 : 4+k])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
		b = b[4+k:]
	}
	if len(got) != 4 || got[0].Payload != 0 || got[2].Payload != 2 || got[3].Kind != KindLink {
		t.Fatalf("the connection's queue is %+v, want the pending signals in order", got)
	}
	if len(p.pending) != 0 {
		t.Fatal("pending kept after the connection is up")
	}
}

func TestTablePendingBoundedAndDroppedOnFailure(t *testing.T) {
	tb := newPeerTable("a@h")
	p, _ := tb.connect("b@h")
	for range maxQueue {
		if !tb.queue(p, Message{Kind: KindSend}, true) {
			t.Fatal("refused before the bound")
		}
	}
	if tb.queue(p, Message{Kind: KindSend}, true) {
		t.Fatal("a send past maxQueue was queued")
	}
	if !tb.queue(p, Message{Kind: KindMonitor}, false) {
		t.Fatal("a control signal must never wait")
	}
	acts := tb.failed(p, errors.New("unreachable"), false)
	wantActions(t, "failed", acts, action{kind: actFailed})
	if len(acts[0].pending) != maxQueue+1 || !isReady(p) || tb.peers["b@h"] != nil {
		t.Fatal("a failed connect must drop the record and hand back what waited")
	}
}

func TestTableClosed(t *testing.T) {
	c := tableConn("b@h", 1)
	tb, p := upTable(t, c)
	q, _ := tb.hello(hello("b@h", 2, 0))
	next := tableConn("b@h", 2)
	tb.handshook(q, next, true)
	up, waiting := tb.shutdown()
	if len(up) != 1 || up[0] != c || len(waiting) != 1 || waiting[0] != next {
		t.Fatalf("shutdown returned %v %v", up, waiting)
	}
	if _, st := tb.hello(hello("d@h", 1, 0)); st != wire.StatusNotAllowed {
		t.Fatal("a closed table answered a hello")
	}
	tb.down(c, ErrClosed)
	acts := tb.tornDown(c)
	if p.conn != nil || len(acts) != 2 || acts[0].kind != actFailed || acts[1].kind != actClose || acts[1].c != next {
		t.Fatalf("a closed table must not start the waiting connection: %+v", acts)
	}
}

// A dial refused nok waits for the winner's attempt; if that never comes,
// the record is left with no attempt, and the next connect dials again.
func TestTableNokWithoutWinnerDialsAgain(t *testing.T) {
	tb := newPeerTable("b@h")
	p, _ := tb.connect("a@h")
	p.dialing = false // what dial does on nok, waiting for accept
	if q, dial := tb.connect("a@h"); q != p || !dial {
		t.Fatal("a record with no attempt in progress must be dialled again")
	}
}
