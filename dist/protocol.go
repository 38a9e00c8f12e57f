package dist

import (
	"bufio"
	"io"

	"github.com/gonode/gonode/dist/wire"
)

// A distribution protocol is a handshake and a codec. The node's
// connection machinery (dialing, accepting, simultaneous-connect rules,
// one writer and one reader per connection, ticks, the neutral Message
// model) is the same for every protocol; a dialect for Erlang's
// distribution protocol plugs in here without changes elsewhere.

// Handshaker sets up a connection: it runs on a fresh connection, writes
// to w, reads from br (which keeps what the peer sends after the
// handshake), and describes the peer. It sets no deadlines; the node does.
type Handshaker interface {
	// Initiate runs the dialing side; the peer must be wantPeer.
	Initiate(w io.Writer, br *bufio.Reader, self wire.HandshakeConfig, wantPeer string) (wire.PeerInfo, error)
	// Accept runs the accepting side; decide answers the peer's hello with
	// the node's rules for connections already up or being set up.
	Accept(w io.Writer, br *bufio.Reader, self wire.HandshakeConfig, decide func(wire.PeerInfo) wire.Status) (wire.PeerInfo, error)
}

// Protocol is what a node speaks on its connections.
type Protocol struct {
	Handshake Handshaker
	Codec     Codec
}

// NativeProtocol is gonode's own protocol: the HMAC-SHA256 handshake and
// msgpack frames of dist/wire and NativeCodec.
func NativeProtocol() Protocol {
	return Protocol{Handshake: nativeHandshake{}, Codec: NewNativeCodec()}
}

type nativeHandshake struct{}

func (nativeHandshake) Initiate(w io.Writer, br *bufio.Reader, self wire.HandshakeConfig, wantPeer string) (wire.PeerInfo, error) {
	return wire.Initiate(w, br, self, wantPeer)
}

func (nativeHandshake) Accept(w io.Writer, br *bufio.Reader, self wire.HandshakeConfig, decide func(wire.PeerInfo) wire.Status) (wire.PeerInfo, error) {
	return wire.Accept(w, br, self, decide)
}
