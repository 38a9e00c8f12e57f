package wire

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

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
