package wire

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// Handshake constants. The wire format is described in the package comment.
const (
	// Version is the native protocol version this package speaks.
	Version = 1
	// Magic opens every hello.
	Magic = "GOND"
	// MaxHandshakeMessage bounds the body of a handshake message.
	MaxHandshakeMessage = 1024
	// MaxNameLen bounds a node name, as Erlang does.
	MaxNameLen = 255
	// NonceLen is the size of each side's challenge nonce.
	NonceLen = 32
	// DigestLen is the size of an HMAC-SHA256 digest.
	DigestLen = sha256.Size
)

// Handshake message tags, the first byte of each message body. Part of the
// wire format: only append.
const (
	tagHello     byte = 1
	tagStatus    byte = 2
	tagChallenge byte = 3
	tagReply     byte = 4
	tagAck       byte = 5
	tagAuthFail  byte = 6
	tagAliveAns  byte = 7
)

// Capability flags, carried in the hello and the challenge (and covered by
// both digests) so that versions can negotiate what they both do. Part of
// the wire format: only append, one bit each.
const (
	// FlagAliveAsk: this node, dialing, can be asked whether an old
	// connection to the peer is alive. A peer that still holds one from
	// the same incarnation answers status alive and waits for an alive
	// answer (true: the old connection is dead here, replace it once the
	// cookie is proved; false: it is up here too, stop), as Erlang's
	// handshake does, instead of refusing until the ticks find the
	// half-open connection.
	FlagAliveAsk uint64 = 1 << 0
	// FlagTickTime: this node tells its tick time after the handshake
	// (dist's KindTickTime) and sends ticks often enough for the peer's,
	// so that nodes with different tick times keep a healthy connection.
	FlagTickTime uint64 = 1 << 1
	// FlagCallCancel: this node takes dist's KindCancel, sent when the
	// caller of an rpc gives up, and cancels the call.
	FlagCallCancel uint64 = 1 << 2
	// FlagStructTypes: this node decodes dist's extStruct (a struct sent
	// with its type's name); a peer without it gets such structs as maps
	// of their fields, which it can decode.
	FlagStructTypes uint64 = 1 << 3

	// Flags is what this version of the package sets.
	Flags = FlagAliveAsk | FlagTickTime | FlagCallCancel | FlagStructTypes
)

// Status is B's answer to A's hello. Part of the wire format: only append.
type Status uint8

const (
	// StatusOK: go on with the challenge.
	StatusOK Status = 1
	// StatusNok: both nodes are connecting to each other at once and B's
	// own attempt survives (see WinsSimultaneous); A should drop its
	// attempt and wait for B's.
	StatusNok Status = 2
	// StatusAlive: B already has a connection to A.
	StatusAlive Status = 3
	// StatusNotAllowed: B does not accept A (bad name, or policy).
	StatusNotAllowed Status = 4
	// StatusBadVersion: B does not speak A's protocol version.
	StatusBadVersion Status = 5
	// StatusTLSRequired: B accepts TLS connections only and A spoke
	// plaintext. Accept never answers it: B's TLS transport does, in
	// place of the TLS handshake (see WriteStatus).
	StatusTLSRequired Status = 6
)

var statusNames = [...]string{"", "ok", "nok", "alive", "not_allowed", "bad_version", "tls_required"}

func (s Status) String() string {
	if s != 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Errors of the handshake; callers compare them with errors.Is.
var (
	// ErrBadCookie: the peer's digest did not match ours, or the peer
	// rejected ours. Its text names the peer, never the cookie.
	ErrBadCookie = errors.New("wire: cookie digest mismatch")
	// ErrBadName: a node name is not name@host, or the node that answered
	// is not the one that was dialed.
	ErrBadName = errors.New("wire: bad node name")
	// ErrBadVersion: the two sides speak no common protocol version.
	ErrBadVersion = errors.New("wire: unsupported protocol version")
	// ErrRefused: the accepting side answered a status other than ok. The
	// error is a *RefusedError carrying the status.
	ErrRefused = errors.New("wire: handshake refused")
	// ErrProtocol: a malformed or unexpected handshake message.
	ErrProtocol = errors.New("wire: handshake protocol error")
	// ErrTLSMismatch: one side requires TLS and the other runs without:
	// Accept got a TLS ClientHello, or B answered StatusTLSRequired.
	ErrTLSMismatch = errors.New("wire: TLS mismatch")
)

// RefusedError reports a handshake that the accepting side answered with a
// status other than ok. errors.Is(err, ErrRefused) holds, and so does
// errors.Is(err, ErrBadVersion) for StatusBadVersion.
type RefusedError struct {
	Peer   string
	Status Status
}

func (e *RefusedError) Error() string {
	if e.Status == StatusTLSRequired {
		return fmt.Sprintf("wire: handshake with %s refused: %s: it accepts TLS connections only, and this node runs without TLS", e.Peer, e.Status)
	}
	return fmt.Sprintf("wire: handshake with %s refused: %s", e.Peer, e.Status)
}

func (e *RefusedError) Unwrap() []error {
	switch e.Status {
	case StatusBadVersion:
		return []error{ErrRefused, ErrBadVersion}
	case StatusTLSRequired:
		return []error{ErrRefused, ErrTLSMismatch}
	}
	return []error{ErrRefused}
}

// HandshakeConfig describes the local node to the handshake.
type HandshakeConfig struct {
	Name     string    // this node's name, name@host
	Creation uint32    // this node's incarnation
	Cookie   string    // the shared secret; never sent, never printed
	Flags    uint64    // capability flags (see FlagAliveAsk); Flags is added
	Hidden   bool      // a hidden node (for example a remote shell)
	Rand     io.Reader // source of nonces; nil means crypto/rand
	// AliveAsked, on the dialing side, answers a peer that still holds a
	// connection from this node: true if no connection to that peer is up
	// (or being set up) here, so that the peer replaces its old one. Nil
	// answers true.
	AliveAsked func(peer string) bool
}

// PeerInfo describes the node at the other end of a finished handshake.
type PeerInfo struct {
	Name     string
	Creation uint32
	Flags    uint64
	Hidden   bool
	Version  int // the protocol version agreed on
	// Dialect is what a protocol other than the native one (dist/erlang)
	// passes from its handshake to its codec (Protocol.NewConn): for the
	// Erlang dialect, the flags agreed and this node's identity. Nil for
	// native connections.
	Dialect any
}

func (cfg *HandshakeConfig) check() error {
	if !ValidName(cfg.Name) {
		return fmt.Errorf("%w: own name %q", ErrBadName, cfg.Name)
	}
	if cfg.Cookie == "" {
		return errors.New("wire: empty cookie")
	}
	return nil
}

func (cfg *HandshakeConfig) rand() io.Reader {
	if cfg.Rand != nil {
		return cfg.Rand
	}
	return rand.Reader
}
