package dist

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// toyProtocol is a second protocol, made up for this test, to show that
// one plugs in: its hello opens "TOY!" (so the listener tells it from the
// native one), its handshake is a line each way (no cookie: a test only),
// and its codec is the native one, counted, made per connection with the
// flags the handshake agreed.
type toyProtocol struct {
	encoded atomic.Int64
	flags   atomic.Uint64 // what the last connection's codec was made with
}

func (tp *toyProtocol) protocol() Protocol {
	return Protocol{
		Name:      "toy",
		Handshake: toyHandshake{},
		NewConn: func(peer wire.PeerInfo) Codec {
			tp.flags.Store(peer.Flags)
			return countingCodec{Codec: NewNativeCodec(), n: &tp.encoded}
		},
		Hello: func(b []byte) HelloMatch {
			switch {
			case !strings.HasPrefix("TOY!", string(b[:min(len(b), 4)])):
				return HelloNo
			case len(b) < 4:
				return HelloMaybe
			}
			return HelloYes
		},
	}
}

type countingCodec struct {
	Codec
	n *atomic.Int64
}

func (c countingCodec) Encode(dst []byte, m *Message) ([]byte, error) {
	c.n.Add(1)
	return c.Codec.Encode(dst, m)
}

type toyHandshake struct{}

// The toy hello is "TOY! name creation\n"; the answer "ok name creation\n".
func (toyHandshake) Initiate(w io.Writer, br *bufio.Reader, self wire.HandshakeConfig, want string) (wire.PeerInfo, error) {
	fmt.Fprintf(w, "TOY! %s %d\n", self.Name, self.Creation)
	var name string
	var creation uint32
	if _, err := fmt.Fscanf(br, "ok %s %d\n", &name, &creation); err != nil || name != want {
		return wire.PeerInfo{}, fmt.Errorf("toy: %v (%q)", err, name)
	}
	return wire.PeerInfo{Name: name, Creation: creation, Flags: 42}, nil
}

func (toyHandshake) Accept(w io.Writer, br *bufio.Reader, self wire.HandshakeConfig, decide func(wire.PeerInfo) wire.Status) (wire.PeerInfo, error) {
	var name string
	var creation uint32
	if _, err := fmt.Fscanf(br, "TOY! %s %d\n", &name, &creation); err != nil {
		return wire.PeerInfo{}, err
	}
	peer := wire.PeerInfo{Name: name, Creation: creation, Flags: 42}
	if st := decide(peer); st != wire.StatusOK {
		return peer, &wire.RefusedError{Peer: name, Status: st}
	}
	fmt.Fprintf(w, "ok %s %d\n", self.Name, self.Creation)
	return peer, nil
}

// One listener serves the native protocol and the toy one; a node that
// speaks only the toy protocol connects, and messages flow both ways
// through the codec its connection was made with.
func TestSecondProtocolPlugsIn(t *testing.T) {
	var toy toyProtocol
	c := newCluster(t)
	c.start("a@localhost", func(cfg *Config) { cfg.AlsoAccept = []Protocol{toy.protocol()} })
	b := c.start("b@localhost", func(cfg *Config) { cfg.Protocol = toy.protocol() })
	native := c.start("n@localhost")

	if err := b.Connect(ctx(t), "a@localhost"); err != nil {
		t.Fatalf("the toy node connects to the node that also accepts it: %v", err)
	}
	if v, err := b.RPC(ctx(t), "a@localhost", "square", 6); err != nil || v != int(36) {
		t.Fatalf("rpc over the toy protocol: %v %v", v, err)
	}
	if toy.encoded.Load() < 2 || toy.flags.Load() != 42 {
		t.Fatalf("the toy codec encoded %d messages, made with flags %d", toy.encoded.Load(), toy.flags.Load())
	}
	// The native protocol still works on a's listener.
	if err := native.Connect(ctx(t), "a@localhost"); err != nil {
		t.Fatal(err)
	}
	// A node that speaks only the native protocol refuses the toy hello,
	// and says so.
	if err := b.Connect(ctx(t), "n@localhost"); err == nil {
		t.Fatal("a native-only node accepted the toy protocol")
	}
	waitLogged(t, c, `not a protocol this node speaks (first bytes "TO")`)
}

// Bytes that open no protocol's hello close the connection at once, with
// what they were in the log.
func TestUnknownProtocolRefused(t *testing.T) {
	c := newCluster(t)
	a := c.start("a@localhost")
	nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", a.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, _ = nc.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	_ = nc.SetReadDeadline(time.Now().Add(waitTime))
	if _, err := nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("a got an answer to an HTTP request")
	}
	waitLogged(t, c, `refused: not a protocol this node speaks (first bytes "GE")`)
}

// The native hello is told at its first bytes that cannot be one.
func TestNativeHelloMatch(t *testing.T) {
	hello := []byte{0, 40, 1, 'G', 'O', 'N', 'D', 0, 1}
	for k := 1; k < 7; k++ {
		if got := nativeHello(hello[:k]); got != HelloMaybe {
			t.Fatalf("prefix %d of a hello: %v", k, got)
		}
	}
	if nativeHello(hello[:7]) != HelloYes || nativeHello(hello) != HelloYes {
		t.Fatal("a whole hello not matched")
	}
	for _, b := range [][]byte{{0xff, 0xff}, {0, 0}, {0, 40, 2}, {0, 40, 1, 'X'}, {'G', 'E'}} {
		if got := nativeHello(b); got != HelloNo {
			t.Fatalf("%q: %v, want no", b, got)
		}
	}
	if nativeHello([]byte{0x16, 0x03}) != HelloYes {
		t.Fatal("a TLS ClientHello goes to the native handshake, which names the mismatch")
	}
}

func waitLogged(t *testing.T, c *cluster, s string) {
	t.Helper()
	eventually(t, "the log line "+s, func() bool { return strings.Contains(c.logs.text(), s) })
}

// Whatever a dialer sends, the answers over growing prefixes settle: once
// no, never yes, and yes only for a native hello or a TLS record.
func FuzzNativeHello(f *testing.F) {
	f.Add([]byte{0, 40, 1, 'G', 'O', 'N', 'D'})
	f.Add([]byte{0x16, 0x03, 0x01})
	f.Add([]byte("GET / HTTP/1.1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		settled := HelloMaybe
		for k := 1; k <= len(b); k++ {
			got := nativeHello(b[:k])
			if settled != HelloMaybe && got != settled {
				t.Fatalf("prefix %d of %q: %v after %v", k, b, got, settled)
			}
			settled = got
		}
		if settled == HelloYes && !(b[0] == 0x16 && b[1] == 0x03) && string(b[3:7]) != wire.Magic {
			t.Fatalf("%q matched", b)
		}
	})
}
