package dist

import (
	"bufio"
	"errors"
	"io"

	"github.com/gonode/gonode/dist/wire"
)

// A distribution protocol is a handshake and a codec. The node's
// connection machinery (dialing, accepting, simultaneous-connect rules,
// one writer and one reader per connection, ticks, the neutral Message
// model) is the same for every protocol; a dialect for Erlang's
// distribution protocol plugs in here without changes elsewhere: its
// hello is told apart from the native one by its first bytes, and its
// codec is made per connection from the flags its handshake agreed.

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

// Protocol is one protocol a node speaks on its connections.
type Protocol struct {
	// Name names the protocol in log lines.
	Name      string
	Handshake Handshaker
	// NewConn makes the codec of one connection from what its handshake
	// agreed with the peer (its version and capability flags).
	NewConn func(peer wire.PeerInfo) Codec
	// Hello says whether a dialer's first bytes open this protocol's
	// handshake, so that one listener serves several protocols. It is
	// asked with one byte, then two, ..., until it answers HelloYes or
	// HelloNo, so that garbage is refused at once.
	Hello func(first []byte) HelloMatch
}

// HelloMatch is Protocol.Hello's answer.
type HelloMatch int

const (
	HelloNo    HelloMatch = iota // not this protocol
	HelloMaybe                   // could be: more bytes needed
	HelloYes                     // this protocol's hello
)

// NativeProtocol is gonode's own protocol: the HMAC-SHA256 handshake and
// msgpack frames of dist/wire and NativeCodec. Its hello opens with
// [len:u16] 1 "GOND". It also takes a TLS ClientHello (a record opening
// 0x16 0x03), which its handshake refuses naming the mismatch (a node with
// TLS dialling one without).
func NativeProtocol() Protocol { return nativeProtocol(nil) }

// nativeProtocol is NativeProtocol with a codec that names types (see
// Config.Types).
func nativeProtocol(types StructTypes) Protocol {
	codec := newNativeCodec(types)
	// A peer of before extStruct would drop a message holding one as
	// malformed: it is sent the struct's fields, as any struct.
	older := &NativeCodec{Types: types, plainStructs: true}
	return Protocol{
		Name:      "native",
		Handshake: nativeHandshake{},
		NewConn: func(p wire.PeerInfo) Codec {
			if types != nil && p.Flags&wire.FlagStructTypes == 0 {
				return older.forConn()
			}
			return codec.forConn()
		},
		Hello: nativeHello,
	}
}

// nativeHello matches [len:u16] 1 "GOND" with 1 <= len <=
// wire.MaxHandshakeMessage, or a TLS record header 0x16 0x03.
func nativeHello(b []byte) HelloMatch {
	if b[0] == 0x16 {
		if len(b) < 2 {
			return HelloMaybe
		}
		if b[1] == 0x03 {
			return HelloYes
		}
	}
	if len(b) >= 2 {
		if n := int(b[0])<<8 | int(b[1]); n == 0 || n > wire.MaxHandshakeMessage {
			return HelloNo
		}
	}
	if len(b) >= 3 && b[2] != 1 {
		return HelloNo
	}
	if len(b) > 3 {
		magic := b[3:min(len(b), 3+len(wire.Magic))]
		if string(magic) != wire.Magic[:len(magic)] {
			return HelloNo
		}
		if len(magic) == len(wire.Magic) {
			return HelloYes
		}
	}
	return HelloMaybe
}

func (p *Protocol) valid() bool {
	return p.Handshake != nil && p.NewConn != nil && p.Hello != nil
}

// sniff picks the protocol whose hello the first bytes in br open. It
// reads no further than it must to tell (the caller's deadline bounds the
// wait), and returns nil and the bytes seen when none matches.
func sniff(br *bufio.Reader, protos []Protocol) (*Protocol, []byte, error) {
	for size := 1; size <= br.Size(); size++ {
		first, err := br.Peek(size)
		if err != nil {
			return nil, first, err
		}
		maybe := false
		for i := range protos {
			switch protos[i].Hello(first) {
			case HelloYes:
				return &protos[i], nil, nil
			case HelloMaybe:
				maybe = true
			}
		}
		if !maybe {
			return nil, first, nil
		}
	}
	return nil, nil, errors.New("no hello in the first buffer")
}

type nativeHandshake struct{}

func (nativeHandshake) Initiate(w io.Writer, br *bufio.Reader, self wire.HandshakeConfig, wantPeer string) (wire.PeerInfo, error) {
	return wire.Initiate(w, br, self, wantPeer)
}

func (nativeHandshake) Accept(w io.Writer, br *bufio.Reader, self wire.HandshakeConfig, decide func(wire.PeerInfo) wire.Status) (wire.PeerInfo, error) {
	return wire.Accept(w, br, self, decide)
}
