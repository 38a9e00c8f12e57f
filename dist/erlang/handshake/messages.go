package handshake

import (
	"bufio"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Message tags, the first byte of each handshake message body (see the
// package comment for the layouts). Erlang's wire format.
const (
	tagSendName    byte = 'N' // send_name (A) and challenge (B), both HANDSHAKE_23
	tagOldSendName byte = 'n' // send_name of OTP 22 and older, or OTP 23/24 without epmd
	tagStatus      byte = 's' // status (B), and A's answer to alive
	tagComplement  byte = 'c' // complement (A), only after an old send_name
	tagReply       byte = 'r' // challenge reply (A)
	tagAck         byte = 'a' // challenge ack (B)
)

// Sizes and limits. Every message is read whole ([Len:u16][Body]) after
// Len has been checked against the limit of the step, so that no peer can
// make the handshake allocate more than MaxMessage bytes at a time.
const (
	// MaxNameLen bounds a node name (or a NAME_ME host) in bytes: node
	// names are atoms, sent as Latin-1, of at most 255 characters.
	MaxNameLen = 255
	// DigestLen is the size of an MD5 digest.
	DigestLen = md5.Size
	// sendNameFixed is the size of a send_name before the name:
	// 'N' Flags:u64 Creation:u32 NLen:u16.
	sendNameFixed = 1 + 8 + 4 + 2
	// oldSendNameFixed is 'n' Version:u16 Flags:u32.
	oldSendNameFixed = 1 + 2 + 4
	// challengeFixed is 'N' Flags:u64 Challenge:u32 Creation:u32 NLen:u16.
	challengeFixed = 1 + 8 + 4 + 4 + 2
	replyLen       = 1 + 4 + DigestLen // 'r' Challenge:u32 Digest
	ackLen         = 1 + DigestLen     // 'a' Digest
	complementLen  = 1 + 4 + 4         // 'c' FlagsHigh:u32 Creation:u32
	// MaxMessage bounds any handshake message body: the longest is a
	// challenge with a name of MaxNameLen bytes. OTP ignores bytes after
	// the name in send_name, challenge and named status, so they may be
	// present, but never more than this.
	MaxMessage = challengeFixed + MaxNameLen
)

// sendName is A's first message: 'N' Flags:u64 Creation:u32 NLen:u16 Name,
// or, in the old form kept for OTP 23/24 nodes that did not ask epmd,
// 'n' Version:u16 Flags:u32 Name (no creation, low flags only: a
// complement follows the challenge).
type sendName struct {
	Old      bool // the 'n' form
	Version  uint16
	Flags    uint64
	Creation uint32
	Name     string
}

// challenge is B's 'N' Flags:u64 Challenge:u32 Creation:u32 NLen:u16 Name.
type challenge struct {
	Flags     uint64
	Challenge uint32
	Creation  uint32
	Name      string
}

// reply is A's 'r' Challenge:u32 Digest[16]: A's own challenge to B and
// the digest of B's challenge.
type reply struct {
	Challenge uint32
	Digest    [DigestLen]byte
}

// statusMsg is B's 's' Text; for named, 's' "named:" NLen:u16 Name
// Creation:u32, the name and creation B gives A.
type statusMsg struct {
	Status   Status
	Name     string
	Creation uint32
}

// Digest is md5(Cookie ++ integer_to_list(Challenge)), dist_util's
// gen_digest: the cookie's bytes, then the challenge in decimal.
func Digest(cookie string, challenge uint32) [DigestLen]byte {
	b := make([]byte, 0, len(cookie)+10)
	b = append(b, cookie...)
	b = strconv.AppendUint(b, uint64(challenge), 10)
	return md5.Sum(b)
}

// beginMessage appends a length placeholder and the tag; endMessage fills
// in the length.
func beginMessage(b []byte, tag byte) ([]byte, int) {
	return append(b, 0, 0, tag), len(b)
}

func endMessage(b []byte, start int) []byte {
	binary.BigEndian.PutUint16(b[start:], uint16(len(b)-start-2))
	return b
}

func appendSendName(b []byte, m sendName) []byte {
	if m.Old {
		b, start := beginMessage(b, tagOldSendName)
		b = binary.BigEndian.AppendUint16(b, m.Version)
		b = binary.BigEndian.AppendUint32(b, uint32(m.Flags))
		b = append(b, m.Name...)
		return endMessage(b, start)
	}
	b, start := beginMessage(b, tagSendName)
	b = binary.BigEndian.AppendUint64(b, m.Flags)
	b = binary.BigEndian.AppendUint32(b, m.Creation)
	b = appendStr(b, m.Name)
	return endMessage(b, start)
}

func appendChallenge(b []byte, c challenge) []byte {
	b, start := beginMessage(b, tagSendName)
	b = binary.BigEndian.AppendUint64(b, c.Flags)
	b = binary.BigEndian.AppendUint32(b, c.Challenge)
	b = binary.BigEndian.AppendUint32(b, c.Creation)
	b = appendStr(b, c.Name)
	return endMessage(b, start)
}

func appendStatus(b []byte, s statusMsg) []byte {
	b, start := beginMessage(b, tagStatus)
	if s.Status == StatusNamed {
		b = append(b, "named:"...)
		b = appendStr(b, s.Name)
		b = binary.BigEndian.AppendUint32(b, s.Creation)
	} else {
		b = append(b, s.Status.String()...)
	}
	return endMessage(b, start)
}

// appendAliveReply is A's answer to status alive: "strue" (the old
// connection is gone here: replace it) or "sfalse" (it is up: stop).
func appendAliveReply(b []byte, dead bool) []byte {
	b, start := beginMessage(b, tagStatus)
	b = strconv.AppendBool(b, dead)
	return endMessage(b, start)
}

func appendComplement(b []byte, flagsHigh, creation uint32) []byte {
	b, start := beginMessage(b, tagComplement)
	b = binary.BigEndian.AppendUint32(b, flagsHigh)
	b = binary.BigEndian.AppendUint32(b, creation)
	return endMessage(b, start)
}

func appendReply(b []byte, r reply) []byte {
	b, start := beginMessage(b, tagReply)
	b = binary.BigEndian.AppendUint32(b, r.Challenge)
	b = append(b, r.Digest[:]...)
	return endMessage(b, start)
}

func appendAck(b []byte, digest [DigestLen]byte) []byte {
	b, start := beginMessage(b, tagAck)
	b = append(b, digest[:]...)
	return endMessage(b, start)
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// readMessage reads one [Len:u16][Body] message, refusing 0 and anything
// over max before allocating.
func readMessage(br *bufio.Reader, max int) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, unexpected(err)
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 || n > max {
		return nil, fmt.Errorf("%w: message of %d bytes (at most %d at this step)", ErrProtocol, n, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, unexpected(err)
	}
	return body, nil
}

// unexpected turns an EOF inside the handshake into ErrUnexpectedEOF:
// the handshake is never complete at a message boundary.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// The decoders are pure functions of a message body, so they can be
// fuzzed. Bytes after a name are ignored where OTP ignores them.

func decodeSendName(body []byte) (sendName, error) {
	p := decoder{b: body, what: "send_name"}
	switch p.u8() {
	case tagSendName:
		var m sendName
		m.Flags = p.u64()
		m.Creation = p.u32()
		m.Name = p.str()
		return m, p.err
	case tagOldSendName:
		m := sendName{Old: true}
		m.Version = p.u16()
		m.Flags = uint64(p.u32())
		if p.err == nil && len(p.b) > MaxNameLen {
			p.fail("name of %d bytes", len(p.b))
		}
		m.Name = string(p.bytes(len(p.b)))
		return m, p.err
	default:
		p.badTag(body)
		return sendName{}, p.err
	}
}

func decodeChallenge(body []byte) (challenge, error) {
	p := decoder{b: body, what: "challenge"}
	p.tag(tagSendName)
	var c challenge
	c.Flags = p.u64()
	c.Challenge = p.u32()
	c.Creation = p.u32()
	c.Name = p.str()
	return c, p.err
}

func decodeStatus(body []byte) (statusMsg, error) {
	p := decoder{b: body, what: "status"}
	p.tag(tagStatus)
	if p.err != nil {
		return statusMsg{}, p.err
	}
	text := string(p.b)
	if rest, ok := cutPrefix(p.b, "named:"); ok {
		p.b = rest
		s := statusMsg{Status: StatusNamed}
		s.Name = p.str()
		s.Creation = p.u32()
		return s, p.err
	}
	for s := StatusOK; s < StatusNamed; s++ {
		if text == s.String() {
			return statusMsg{Status: s}, nil
		}
	}
	return statusMsg{}, fmt.Errorf("%w: unknown status %q", ErrProtocol, truncate(text))
}

func decodeAliveReply(body []byte) (dead bool, err error) {
	p := decoder{b: body, what: "alive reply"}
	p.tag(tagStatus)
	if p.err != nil {
		return false, p.err
	}
	switch string(p.b) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: alive reply %q, want true or false", ErrProtocol, truncate(string(p.b)))
}

func decodeComplement(body []byte) (flagsHigh, creation uint32, err error) {
	p := decoder{b: body, what: "complement"}
	p.tag(tagComplement)
	flagsHigh, creation = p.u32(), p.u32()
	return flagsHigh, creation, p.end()
}

func decodeReply(body []byte) (reply, error) {
	p := decoder{b: body, what: "challenge reply"}
	p.tag(tagReply)
	var r reply
	r.Challenge = p.u32()
	copy(r.Digest[:], p.bytes(DigestLen))
	return r, p.end()
}

func decodeAck(body []byte) ([DigestLen]byte, error) {
	p := decoder{b: body, what: "challenge ack"}
	p.tag(tagAck)
	var d [DigestLen]byte
	copy(d[:], p.bytes(DigestLen))
	return d, p.end()
}
