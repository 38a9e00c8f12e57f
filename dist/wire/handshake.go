package wire

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
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

	// Flags is what this version of the package sets.
	Flags = FlagAliveAsk | FlagTickTime | FlagCallCancel
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

// WriteStatus writes a status message alone, as B answers a hello it
// refuses. A TLS transport uses it to answer a plaintext hello with
// StatusTLSRequired.
func WriteStatus(w io.Writer, s Status) error {
	_, err := w.Write(appendStatus(nil, s))
	return err
}

// PeekHelloName returns the name in the hello at the head of br, leaving
// it unread for Accept: a TLS transport checks it against the dialler's
// certificate before the handshake goes on.
func PeekHelloName(br *bufio.Reader) (string, error) {
	hdr, err := br.Peek(2)
	if err != nil {
		return "", unexpected(err)
	}
	n := int(binary.BigEndian.Uint16(hdr))
	if n == 0 || n > MaxHandshakeMessage {
		return "", fmt.Errorf("%w: message length %d", ErrProtocol, n)
	}
	msg, err := br.Peek(2 + n)
	if err != nil {
		return "", unexpected(err)
	}
	h, err := decodeHello(msg[2:])
	if err != nil {
		return "", err
	}
	return h.Name, nil
}

// TLSRecordHandshake is the first byte of a TLS ClientHello (a handshake
// record). A hello's first byte is the high byte of a length of at most
// MaxHandshakeMessage, so it is never this.
const TLSRecordHandshake = 0x16

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
}

// WinsSimultaneous reports whether, when nodes self and peer are connecting
// to each other at the same time, self's own outgoing attempt is the one
// that survives: it does when self's name sorts after peer's. A node
// accepting a hello from peer while its own attempt to peer is pending
// answers StatusNok when this is true, and otherwise drops its attempt and
// answers StatusOK.
func WinsSimultaneous(self, peer string) bool { return self > peer }

// ValidName reports whether s is a usable node name: name@host with both
// parts non-empty, a single @, no spaces, control characters or angle
// brackets, at most MaxNameLen bytes. It is the same rule as proc's.
func ValidName(s string) bool {
	if len(s) > MaxNameLen {
		return false
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '<' || r == '>' || r == 0x7f {
			return false
		}
	}
	return true
}

// Initiate runs the dialing side (A) of the handshake on a fresh connection:
// it writes to w and reads from br, and checks that the node that answers
// is wantPeer. Whatever the peer sends after its ack stays buffered in br,
// which the caller goes on reading frames from. Each step is one Write.
//
// Initiate sets no deadlines: the caller sets them on the connection.
func Initiate(w io.Writer, br *bufio.Reader, cfg HandshakeConfig, wantPeer string) (PeerInfo, error) {
	if err := cfg.check(); err != nil {
		return PeerInfo{}, err
	}
	if !ValidName(wantPeer) {
		return PeerInfo{}, fmt.Errorf("%w: dialed %q", ErrBadName, wantPeer)
	}
	fail := func(step string, err error) (PeerInfo, error) {
		return PeerInfo{}, fmt.Errorf("wire: handshake with %s: %s: %w", wantPeer, step, err)
	}

	me := hello{Version: Version, Name: cfg.Name, Creation: cfg.Creation, Flags: cfg.Flags | Flags, Hidden: cfg.Hidden}
	if _, err := w.Write(appendHello(nil, me)); err != nil {
		return fail("sending hello", err)
	}

	body, err := readMessage(br)
	if err != nil {
		return fail("reading status", err)
	}
	st, err := decodeStatus(body)
	if err != nil {
		return fail("reading status", err)
	}
	if st == StatusAlive {
		// The peer holds a connection from us and asks whether it lives.
		dead := cfg.AliveAsked == nil || cfg.AliveAsked(wantPeer)
		if _, err := w.Write(appendAliveAnswer(nil, dead)); err != nil {
			return fail("sending alive answer", err)
		}
		if !dead {
			return PeerInfo{}, &RefusedError{Peer: wantPeer, Status: st}
		}
	} else if st != StatusOK {
		return PeerInfo{}, &RefusedError{Peer: wantPeer, Status: st}
	}

	body, err = readMessage(br)
	if err != nil {
		return fail("reading challenge", err)
	}
	ch, err := decodeChallenge(body)
	if err != nil {
		return fail("reading challenge", err)
	}
	if ch.Name != wantPeer {
		return PeerInfo{}, fmt.Errorf("%w: dialed %s but %q answered", ErrBadName, wantPeer, ch.Name)
	}

	var nonceA [NonceLen]byte
	if _, err := io.ReadFull(cfg.rand(), nonceA[:]); err != nil {
		return fail("making nonce", err)
	}
	t := transcript{a: me, b: ch, nonceA: nonceA, nonceB: ch.Nonce}
	rp := reply{Nonce: nonceA, Digest: t.digest(cfg.Cookie, 'A')}
	if _, err := w.Write(appendReply(nil, rp)); err != nil {
		return fail("sending reply", err)
	}

	body, err = readMessage(br)
	if err != nil {
		return fail("reading ack", err)
	}
	if len(body) == 1 && body[0] == tagAuthFail {
		return PeerInfo{}, fmt.Errorf("%w: %s rejected our digest", ErrBadCookie, wantPeer)
	}
	digestB, err := decodeAck(body)
	if err != nil {
		return fail("reading ack", err)
	}
	want := t.digest(cfg.Cookie, 'B')
	if !hmac.Equal(digestB[:], want[:]) {
		return PeerInfo{}, fmt.Errorf("%w: digest from %s", ErrBadCookie, wantPeer)
	}
	return PeerInfo{Name: ch.Name, Creation: ch.Creation, Flags: ch.Flags, Hidden: ch.Hidden, Version: Version}, nil
}

// Accept runs the accepting side (B) of the handshake on a fresh connection:
// it reads from br and writes to w. After reading A's hello it asks decide
// (nil means always StatusOK) what to answer; the caller, which knows its
// pending and established connections, answers StatusNok, StatusAlive or
// StatusNotAllowed there. Names that are not name@host, or equal to this
// node's, are answered StatusNotAllowed without asking decide. The hello
// decide sees is not yet authenticated (anyone can claim any name and
// creation): decide may reserve, but must not act on it, for example by
// dropping an existing connection to that name, before Accept has returned
// without error.
//
// On success the PeerInfo describes A. On failure it describes A as far as
// the hello told (empty if the hello was unreadable), and the error is
// ErrBadVersion, ErrBadName, ErrBadCookie, ErrProtocol, a *RefusedError
// (the status decide chose) or an I/O error. Each step is one Write; data
// A sends after its reply stays buffered in br. Accept sets no deadlines:
// the caller sets them on the connection.
func Accept(w io.Writer, br *bufio.Reader, cfg HandshakeConfig, decide func(peer PeerInfo) Status) (PeerInfo, error) {
	if err := cfg.check(); err != nil {
		return PeerInfo{}, err
	}
	if b, err := br.Peek(1); err == nil && b[0] == TLSRecordHandshake {
		return PeerInfo{}, refuseTLS(w, br)
	}
	body, err := readMessage(br)
	if err != nil {
		return PeerInfo{}, fmt.Errorf("wire: handshake: reading hello: %w", err)
	}
	h, err := decodeHello(body)
	if errors.Is(err, ErrBadVersion) {
		_, _ = w.Write(appendStatus(nil, StatusBadVersion))
		return PeerInfo{Version: int(h.Version)}, fmt.Errorf("wire: handshake: hello: %w", err)
	}
	if err != nil {
		return PeerInfo{}, fmt.Errorf("wire: handshake: reading hello: %w", err)
	}
	peer := PeerInfo{Name: h.Name, Creation: h.Creation, Flags: h.Flags, Hidden: h.Hidden, Version: Version}
	fail := func(step string, err error) (PeerInfo, error) {
		return peer, fmt.Errorf("wire: handshake with %s: %s: %w", h.Name, step, err)
	}

	if !ValidName(h.Name) || h.Name == cfg.Name {
		_, _ = w.Write(appendStatus(nil, StatusNotAllowed))
		return peer, fmt.Errorf("%w: hello from %q", ErrBadName, h.Name)
	}
	st := StatusOK
	if decide != nil {
		st = decide(peer)
	}
	asked := st == StatusAlive && h.Flags&FlagAliveAsk != 0
	if st != StatusOK {
		if _, err := w.Write(appendStatus(nil, st)); err != nil {
			return fail("sending status", err)
		}
		if !asked {
			return peer, &RefusedError{Peer: h.Name, Status: st}
		}
		body, err := readMessage(br)
		if err != nil {
			return fail("reading alive answer", err)
		}
		dead, err := decodeAliveAnswer(body)
		if err != nil {
			return fail("reading alive answer", err)
		}
		if !dead {
			return peer, &RefusedError{Peer: h.Name, Status: st}
		}
	}

	var nonceB [NonceLen]byte
	if _, err := io.ReadFull(cfg.rand(), nonceB[:]); err != nil {
		return fail("making nonce", err)
	}
	ch := challenge{Name: cfg.Name, Creation: cfg.Creation, Flags: cfg.Flags | Flags, Hidden: cfg.Hidden, Nonce: nonceB}
	msg := make([]byte, 0, 128)
	if !asked {
		msg = appendStatus(msg, StatusOK)
	}
	msg = appendChallenge(msg, ch)
	if _, err := w.Write(msg); err != nil {
		return fail("sending challenge", err)
	}

	body, err = readMessage(br)
	if err != nil {
		return fail("reading reply", err)
	}
	rp, err := decodeReply(body)
	if err != nil {
		return fail("reading reply", err)
	}
	t := transcript{a: h, b: ch, nonceA: rp.Nonce, nonceB: nonceB}
	want := t.digest(cfg.Cookie, 'A')
	if !hmac.Equal(rp.Digest[:], want[:]) {
		_, _ = w.Write(appendAuthFail(nil))
		return peer, fmt.Errorf("%w: digest from %s", ErrBadCookie, h.Name)
	}
	if _, err := w.Write(appendAck(nil, t.digest(cfg.Cookie, 'B'))); err != nil {
		return fail("sending ack", err)
	}
	return peer, nil
}

// refuseTLS answers a TLS ClientHello: it reads the record (so that
// closing the connection does not reset it before A reads the answer) and
// answers not_allowed, which A's TLS layer reports as a reply that is not
// TLS.
func refuseTLS(w io.Writer, br *bufio.Reader) error {
	var hdr [5]byte // type, version:u16, length:u16
	if _, err := io.ReadFull(br, hdr[:]); err == nil {
		if n := int(binary.BigEndian.Uint16(hdr[3:])); n <= 1<<14+256 {
			_, _ = br.Discard(n)
		}
	}
	_, _ = w.Write(appendStatus(nil, StatusNotAllowed))
	return fmt.Errorf("wire: handshake: %w: the peer opened with a TLS handshake, and this node runs without TLS", ErrTLSMismatch)
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

// transcript is what both digests cover.
type transcript struct {
	a              hello
	b              challenge
	nonceA, nonceB [NonceLen]byte
}

func (t *transcript) digest(cookie string, label byte) [DigestLen]byte {
	m := hmac.New(sha256.New, []byte(cookie))
	b := make([]byte, 0, 1+2+2*NonceLen+4+len(t.a.Name)+len(t.b.Name)+2*(4+8+1))
	b = append(b, label)
	b = binary.BigEndian.AppendUint16(b, Version)
	b = append(b, t.nonceA[:]...)
	b = append(b, t.nonceB[:]...)
	b = appendStr(b, t.a.Name)
	b = appendStr(b, t.b.Name)
	b = binary.BigEndian.AppendUint32(b, t.a.Creation)
	b = binary.BigEndian.AppendUint32(b, t.b.Creation)
	b = binary.BigEndian.AppendUint64(b, t.a.Flags)
	b = binary.BigEndian.AppendUint64(b, t.b.Flags)
	b = append(b, boolByte(t.a.Hidden), boolByte(t.b.Hidden))
	m.Write(b)
	var d [DigestLen]byte
	m.Sum(d[:0])
	return d
}

// readMessage reads one [Len:u16][Body] handshake message, checking Len
// before allocating.
func readMessage(br *bufio.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, unexpected(err)
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 || n > MaxHandshakeMessage {
		return nil, fmt.Errorf("%w: message length %d", ErrProtocol, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, unexpected(err)
	}
	return body, nil
}

// The messages as values, and their encoders and decoders. Encoders append a
// whole message, length prefix included; decoders take a body and are pure
// functions, so they can be fuzzed.

type hello struct {
	Version  uint16
	Name     string
	Creation uint32
	Flags    uint64
	Hidden   bool
}

type challenge struct {
	Name     string
	Creation uint32
	Flags    uint64
	Hidden   bool
	Nonce    [NonceLen]byte
}

type reply struct {
	Nonce  [NonceLen]byte
	Digest [DigestLen]byte
}

// beginMessage appends a length placeholder and the tag; endMessage fills in
// the length.
func beginMessage(b []byte, tag byte) ([]byte, int) {
	return append(b, 0, 0, tag), len(b)
}

func endMessage(b []byte, start int) []byte {
	binary.BigEndian.PutUint16(b[start:], uint16(len(b)-start-2))
	return b
}

func appendHello(b []byte, h hello) []byte {
	b, start := beginMessage(b, tagHello)
	b = append(b, Magic...)
	b = binary.BigEndian.AppendUint16(b, h.Version)
	b = binary.BigEndian.AppendUint32(b, h.Creation)
	b = binary.BigEndian.AppendUint64(b, h.Flags)
	b = append(b, boolByte(h.Hidden))
	b = appendStr(b, h.Name)
	return endMessage(b, start)
}

func appendStatus(b []byte, s Status) []byte {
	b, start := beginMessage(b, tagStatus)
	b = append(b, byte(s))
	return endMessage(b, start)
}

func appendChallenge(b []byte, c challenge) []byte {
	b, start := beginMessage(b, tagChallenge)
	b = binary.BigEndian.AppendUint32(b, c.Creation)
	b = binary.BigEndian.AppendUint64(b, c.Flags)
	b = append(b, boolByte(c.Hidden))
	b = append(b, c.Nonce[:]...)
	b = appendStr(b, c.Name)
	return endMessage(b, start)
}

func appendReply(b []byte, r reply) []byte {
	b, start := beginMessage(b, tagReply)
	b = append(b, r.Nonce[:]...)
	b = append(b, r.Digest[:]...)
	return endMessage(b, start)
}

func appendAck(b []byte, digest [DigestLen]byte) []byte {
	b, start := beginMessage(b, tagAck)
	b = append(b, digest[:]...)
	return endMessage(b, start)
}

func appendAliveAnswer(b []byte, dead bool) []byte {
	b, start := beginMessage(b, tagAliveAns)
	b = append(b, boolByte(dead))
	return endMessage(b, start)
}

func decodeAliveAnswer(body []byte) (bool, error) {
	p := decoder{b: body, what: "alive answer"}
	p.tag(tagAliveAns)
	dead := p.bool()
	return dead, p.end()
}

func appendAuthFail(b []byte) []byte {
	b, start := beginMessage(b, tagAuthFail)
	return endMessage(b, start)
}

// decodeHello decodes a hello body. For a well-formed prefix with a version
// other than Version it returns the hello with only Version set and an error
// wrapping ErrBadVersion, so that the caller can answer bad_version.
func decodeHello(body []byte) (hello, error) {
	p := decoder{b: body, what: "hello"}
	p.tag(tagHello)
	if magic := p.bytes(len(Magic)); p.err == nil && string(magic) != Magic {
		p.fail("bad magic")
	}
	v := p.u16()
	if p.err != nil {
		return hello{}, p.err
	}
	if v != Version {
		return hello{Version: v}, fmt.Errorf("%w: peer speaks version %d, we speak %d", ErrBadVersion, v, Version)
	}
	h := hello{Version: v}
	h.Creation = p.u32()
	h.Flags = p.u64()
	h.Hidden = p.bool()
	h.Name = p.str()
	return h, p.end()
}

func decodeStatus(body []byte) (Status, error) {
	p := decoder{b: body, what: "status"}
	p.tag(tagStatus)
	s := Status(p.u8())
	if err := p.end(); err != nil {
		return 0, err
	}
	if s == 0 {
		return 0, fmt.Errorf("%w: status: zero status", ErrProtocol)
	}
	return s, nil
}

func decodeChallenge(body []byte) (challenge, error) {
	p := decoder{b: body, what: "challenge"}
	p.tag(tagChallenge)
	var c challenge
	c.Creation = p.u32()
	c.Flags = p.u64()
	c.Hidden = p.bool()
	copy(c.Nonce[:], p.bytes(NonceLen))
	c.Name = p.str()
	if err := p.end(); err != nil {
		return challenge{}, err
	}
	return c, nil
}

func decodeReply(body []byte) (reply, error) {
	p := decoder{b: body, what: "reply"}
	p.tag(tagReply)
	var r reply
	copy(r.Nonce[:], p.bytes(NonceLen))
	copy(r.Digest[:], p.bytes(DigestLen))
	if err := p.end(); err != nil {
		return reply{}, err
	}
	return r, nil
}

func decodeAck(body []byte) ([DigestLen]byte, error) {
	p := decoder{b: body, what: "ack"}
	p.tag(tagAck)
	var d [DigestLen]byte
	copy(d[:], p.bytes(DigestLen))
	if err := p.end(); err != nil {
		return [DigestLen]byte{}, err
	}
	return d, nil
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decoder reads the fields of one message body. After the first error every
// read returns zero values and the error sticks.
type decoder struct {
	b    []byte
	what string
	err  error
}

func (p *decoder) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: %s: %s", ErrProtocol, p.what, fmt.Sprintf(format, args...))
	}
}

func (p *decoder) bytes(n int) []byte {
	if p.err != nil {
		return nil
	}
	if len(p.b) < n {
		p.fail("truncated")
		return nil
	}
	v := p.b[:n]
	p.b = p.b[n:]
	return v
}

func (p *decoder) tag(want byte) {
	if t := p.u8(); p.err == nil && t != want {
		p.fail("unexpected message tag %d", t)
	}
}

func (p *decoder) u8() uint8 {
	if b := p.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (p *decoder) u16() uint16 {
	if b := p.bytes(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (p *decoder) u32() uint32 {
	if b := p.bytes(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (p *decoder) u64() uint64 {
	if b := p.bytes(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (p *decoder) bool() bool {
	switch v := p.u8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		p.fail("bad boolean %d", v)
		return false
	}
}

func (p *decoder) str() string {
	n := int(p.u16())
	if n > MaxNameLen {
		p.fail("name of %d bytes", n)
		return ""
	}
	return string(p.bytes(n))
}

func (p *decoder) end() error {
	if p.err == nil && len(p.b) != 0 {
		p.fail("%d trailing bytes", len(p.b))
	}
	return p.err
}
