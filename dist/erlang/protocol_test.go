package erlang

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/erlang/handshake"
	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/internal/testport"
)

// hello says yes to a send_name from its third byte, and no at the first
// byte that rules one out (gonode's native hello, a TLS record, text).
func TestHello(t *testing.T) {
	for _, tt := range []struct {
		first []byte
		want  dist.HelloMatch
	}{
		{[]byte{0}, dist.HelloMaybe},
		{[]byte{0, 20}, dist.HelloMaybe},
		{[]byte{0, 20, 'N'}, dist.HelloYes},
		{[]byte{0, 20, 'n'}, dist.HelloYes},
		{[]byte{0, 20, 1}, dist.HelloNo}, // native: [len] 1 "GOND"
		{[]byte{0x16}, dist.HelloNo},     // TLS
		{[]byte("GET / HTTP/1.1"[:1]), dist.HelloNo},
	} {
		if got := hello(tt.first); got != tt.want {
			t.Errorf("hello(%v) = %v, want %v", tt.first, got, tt.want)
		}
	}
}

// Handshake errors reach dist as the wire errors it acts on.
func TestWireError(t *testing.T) {
	if err := wireError(handshake.ErrBadCookie, "b@h"); !errors.Is(err, wire.ErrBadCookie) || !errors.Is(err, handshake.ErrBadCookie) {
		t.Errorf("bad cookie: %v", err)
	}
	for st, want := range map[handshake.Status]wire.Status{
		handshake.StatusNok: wire.StatusNok, handshake.StatusAlive: wire.StatusAlive, handshake.StatusNotAllowed: wire.StatusNotAllowed,
	} {
		var refused *wire.RefusedError
		err := wireError(&handshake.RefusedError{Peer: "b@h", Status: st}, "b@h")
		if !errors.As(err, &refused) || refused.Status != want || !errors.Is(err, wire.ErrRefused) {
			t.Errorf("%v: %v, want wire status %v", st, err, want)
		}
	}
}

// Garbage after an Erlang-looking hello closes that connection with a log
// line; the node goes on accepting.
func TestGarbageAfterSendName(t *testing.T) {
	logs := &logBuf{}
	n, err := dist.Start(context.Background(), dist.Config{
		Name: "g@localhost", Cookie: "c", EPMDAddr: "127.0.0.1:" + testport.Port(t), Foreign: Protocol(), Logf: logs.logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(n.Port()))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		junk := append([]byte{0, 20, 'N'}, []byte("0123456789abcdefghi")...)
		if _, err := c.Write(junk); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(c); err != nil {
			t.Fatalf("the node did not close the connection: %v", err)
		}
		c.Close()
	}
	waitUntil(t, "a log line about the handshake", func() bool {
		_, ok := logs.find("handshake with")
		return ok
	})
	if len(n.Nodes()) != 0 {
		t.Errorf("Nodes() = %v after garbage", n.Nodes())
	}
}

// A Go stand-in for a BEAM node (the real handshake, then packets written
// by hand) checks what dist does with the codec's answers: an unsupported
// operation is logged and the connection stays; UNLINK_ID is acknowledged
// and SPAWN_REQUEST refused on the connection; a malformed packet closes
// it with a log line.
func TestFakeBeamPeer(t *testing.T) {
	logs := &logBuf{}
	n, err := dist.Start(context.Background(), dist.Config{
		Name: "g@localhost", Cookie: "c", EPMDAddr: "127.0.0.1:" + testport.Port(t), Foreign: Protocol(), Logf: logs.logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	f, err := dialFake(t, n, handshake.Config{Name: "fake@localhost", Creation: 9, Cookie: "c"})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the fake peer to be up", func() bool { return len(n.Nodes()) == 1 })
	send := func(p []byte) { t.Helper(); f.send(t, p) }
	read := func() []byte { t.Helper(); return f.read(t) }
	fake := etf.Pid{Node: "fake@localhost", ID: 40, Creation: 9}
	local := etf.Pid{Node: "g@localhost", ID: 1, Creation: 1}
	send(packetOf(t, etf.Tuple{int64(opGroupLead), fake, local}))
	send(packetOf(t, etf.Tuple{int64(opUnlinkID), int64(12), fake, local}))
	if got, want := read(), packetOf(t, etf.Tuple{int64(opUnlinkAck), int64(12), local, fake}); !reflect.DeepEqual(got, want) {
		t.Errorf("answer to UNLINK_ID: %v, want %v", got, want)
	}
	req := etf.Ref{Node: "fake@localhost", Creation: 9, Len: 3, ID: [5]uint32{1, 2, 3}}
	send(packetOf(t, etf.Tuple{int64(opSpawnReq), req, fake, fake, etf.Tuple{etf.Atom("m"), etf.Atom("f"), int64(0)}, []any{}}, []any{}))
	if got, want := read(), packetOf(t, etf.Tuple{int64(opSpawnReply), req, fake, int64(0), etf.Atom("notsup")}); !reflect.DeepEqual(got, want) {
		t.Errorf("answer to SPAWN_REQUEST: %v, want %v", got, want)
	}
	if _, ok := logs.find("control message 7 is not supported; dropped"); !ok {
		t.Errorf("GROUP_LEADER not logged:\n%s", logs)
	}
	if len(n.Nodes()) != 1 {
		t.Fatalf("the connection went after packets it does not support")
	}
	send([]byte{passThrough, 131, 104}) // a tuple cut short
	if _, err := io.ReadAll(f.br); err != nil {
		t.Fatalf("the node did not close the connection after a malformed packet: %v", err)
	}
	waitUntil(t, "the malformed packet to be logged", func() bool {
		_, ok := logs.find("undecodable frame")
		return ok
	})
	waitUntil(t, "the peer to be down", func() bool { return len(n.Nodes()) == 0 })
}
