package handshake

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDigest checks gen_digest against values a real OTP 25 node printed:
// erlang:md5([atom_to_list(Cookie) | integer_to_list(Challenge)]).
func TestDigest(t *testing.T) {
	for _, c := range []struct {
		cookie    string
		challenge uint32
		want      string
	}{
		{"cookie", 4294967295, "DE56FF9D11B071905BCE597A85D67F4F"},
		{"secret", 0, "175EC77A7F63082590987D0D8B051AFF"},
	} {
		d := Digest(c.cookie, c.challenge)
		if got := strings.ToUpper(hex.EncodeToString(d[:])); got != c.want {
			t.Errorf("Digest(%q, %d) = %s, want %s", c.cookie, c.challenge, got, c.want)
		}
	}
}

// TestMessageBytes checks each encoder against the layout written by hand
// from dist_util.erl, and each decoder against the same bytes.
func TestMessageBytes(t *testing.T) {
	var dg [DigestLen]byte
	for i := range dg {
		dg[i] = byte(i + 1)
	}
	dgHex := "0102030405060708090a0b0c0d0e0f10"
	cases := []struct {
		name   string
		enc    []byte
		want   string
		decode func(body []byte) (any, error)
		value  any
	}{
		{"send_name", appendSendName(nil, sendName{Flags: 0xD075F4FBD, Creation: 0x01020304, Name: "a@h"}),
			"0012 4e 0000000d075f4fbd 01020304 0003 614068",
			func(b []byte) (any, error) { return decodeSendName(b) },
			sendName{Flags: 0xD075F4FBD, Creation: 0x01020304, Name: "a@h"}},
		{"old send_name", appendSendName(nil, sendName{Old: true, Version: 5, Flags: 0x1070F94, Name: "a@h"}),
			"000a 6e 0005 01070f94 614068",
			func(b []byte) (any, error) { return decodeSendName(b) },
			sendName{Old: true, Version: 5, Flags: 0x1070F94, Name: "a@h"}},
		{"challenge", appendChallenge(nil, challenge{Flags: 0xD07DF7FBD, Challenge: 0xCAFEBABE, Creation: 7, Name: "x@h"}),
			"0016 4e 0000000d07df7fbd cafebabe 00000007 0003 784068",
			func(b []byte) (any, error) { return decodeChallenge(b) },
			challenge{Flags: 0xD07DF7FBD, Challenge: 0xCAFEBABE, Creation: 7, Name: "x@h"}},
		{"status ok", appendStatus(nil, statusMsg{Status: StatusOK}), "0003 73 6f6b",
			func(b []byte) (any, error) { return decodeStatus(b) }, statusMsg{Status: StatusOK}},
		{"status ok_simultaneous", appendStatus(nil, statusMsg{Status: StatusOKSimultaneous}),
			"0010 73" + hex.EncodeToString([]byte("ok_simultaneous")),
			func(b []byte) (any, error) { return decodeStatus(b) }, statusMsg{Status: StatusOKSimultaneous}},
		{"status nok", appendStatus(nil, statusMsg{Status: StatusNok}), "0004 73 6e6f6b",
			func(b []byte) (any, error) { return decodeStatus(b) }, statusMsg{Status: StatusNok}},
		{"status not_allowed", appendStatus(nil, statusMsg{Status: StatusNotAllowed}),
			"000c 73" + hex.EncodeToString([]byte("not_allowed")),
			func(b []byte) (any, error) { return decodeStatus(b) }, statusMsg{Status: StatusNotAllowed}},
		{"status alive", appendStatus(nil, statusMsg{Status: StatusAlive}), "0006 73 616c697665",
			func(b []byte) (any, error) { return decodeStatus(b) }, statusMsg{Status: StatusAlive}},
		{"status named", appendStatus(nil, statusMsg{Status: StatusNamed, Name: "d@h", Creation: 9}),
			"0010 73 6e616d65643a 0003 644068 00000009",
			func(b []byte) (any, error) { return decodeStatus(b) }, statusMsg{Status: StatusNamed, Name: "d@h", Creation: 9}},
		{"alive true", appendAliveReply(nil, true), "0005 73 74727565",
			func(b []byte) (any, error) { return decodeAliveReply(b) }, true},
		{"alive false", appendAliveReply(nil, false), "0006 73 66616c7365",
			func(b []byte) (any, error) { return decodeAliveReply(b) }, false},
		{"complement", appendComplement(nil, 0xD, 0x01020304), "0009 63 0000000d 01020304",
			func(b []byte) (any, error) {
				h, c, err := decodeComplement(b)
				return [2]uint32{h, c}, err
			}, [2]uint32{0xD, 0x01020304}},
		{"reply", appendReply(nil, reply{Challenge: 0xFFFFFFFF, Digest: dg}), "0015 72 ffffffff " + dgHex,
			func(b []byte) (any, error) { return decodeReply(b) }, reply{Challenge: 0xFFFFFFFF, Digest: dg}},
		{"ack", appendAck(nil, dg), "0011 61 " + dgHex,
			func(b []byte) (any, error) { return decodeAck(b) }, dg},
	}
	for _, c := range cases {
		want := unhex(t, c.want)
		if !bytes.Equal(c.enc, want) {
			t.Errorf("%s: encoded %x, want %x", c.name, c.enc, want)
			continue
		}
		body, err := readMessage(bufio.NewReader(bytes.NewReader(c.enc)), MaxMessage)
		if err != nil {
			t.Errorf("%s: readMessage: %v", c.name, err)
			continue
		}
		got, err := c.decode(body)
		if err != nil || got != c.value {
			t.Errorf("%s: decoded %+v, %v; want %+v", c.name, got, err, c.value)
		}
	}
}

// TestDecodeRefusals: malformed bodies fail with ErrProtocol, and OTP's
// tolerance of bytes after a name is kept.
func TestDecodeRefusals(t *testing.T) {
	long := strings.Repeat("x", MaxNameLen+1)
	bad := []struct {
		name string
		err  func() error
	}{
		{"empty send_name", func() error { _, err := decodeSendName(nil); return err }},
		{"send_name tag", func() error { _, err := decodeSendName([]byte("r123")); return err }},
		{"truncated send_name", func() error { _, err := decodeSendName(appendSendName(nil, sendName{Name: "a@b"})[2:10]); return err }},
		{"send_name name too long", func() error { _, err := decodeSendName(appendSendName(nil, sendName{Name: long})[2:]); return err }},
		{"old send_name name too long", func() error {
			_, err := decodeSendName(appendSendName(nil, sendName{Old: true, Name: long})[2:])
			return err
		}},
		{"name past the end", func() error {
			_, err := decodeChallenge(unhex(t, "4e 0000000000000000 00000000 00000000 0005 6140"))
			return err
		}},
		{"unknown status", func() error { _, err := decodeStatus([]byte("sokay")); return err }},
		{"status with trailing bytes", func() error { _, err := decodeStatus([]byte("sok\x00")); return err }},
		{"truncated named", func() error { _, err := decodeStatus([]byte("snamed:\x00\x03a@b")); return err }},
		{"alive reply", func() error { _, err := decodeAliveReply([]byte("syes")); return err }},
		{"short reply", func() error { _, err := decodeReply(appendReply(nil, reply{})[2:20]); return err }},
		{"long reply", func() error { _, err := decodeReply(append(appendReply(nil, reply{})[2:], 0)); return err }},
		{"ack tag", func() error { _, err := decodeAck(append([]byte{'r'}, make([]byte, 16)...)); return err }},
		{"long complement", func() error { _, _, err := decodeComplement(append(appendComplement(nil, 1, 2)[2:], 0)); return err }},
	}
	for _, c := range bad {
		if err := c.err(); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: error %v, want ErrProtocol", c.name, err)
		}
	}
	// OTP ignores what follows the name (lists:split(NameLen, Rest)).
	body := append(appendChallenge(nil, challenge{Name: "b@h", Challenge: 3})[2:], "extra"...)
	if c, err := decodeChallenge(body); err != nil || c.Name != "b@h" || c.Challenge != 3 {
		t.Errorf("challenge with trailing bytes: %+v, %v", c, err)
	}
}

func TestReadMessageBounds(t *testing.T) {
	for _, c := range []struct {
		in  string
		max int
		err error
	}{
		{"0000", MaxMessage, ErrProtocol},                     // empty body
		{"ffff 4e", MaxMessage, ErrProtocol},                  // 65535 bytes announced: refused unread
		{"0016 72", replyLen, ErrProtocol},                    // over the step's limit
		{"0005 7300", MaxMessage, io.ErrUnexpectedEOF},        // truncated body
		{"00", MaxMessage, io.ErrUnexpectedEOF},               // truncated length
		{"", MaxMessage, io.ErrUnexpectedEOF},                 // nothing at all
		{"0002 736f", MaxMessage, nil},                        // fine
		{"0112" + strings.Repeat("00", 274), MaxMessage, nil}, // the largest
	} {
		_, err := readMessage(bufio.NewReader(bytes.NewReader(unhex(t, c.in))), c.max)
		if !errors.Is(err, c.err) && !(c.err == nil && err == nil) {
			t.Errorf("readMessage(%s, %d) = %v, want %v", c.in, c.max, err, c.err)
		}
	}
}

func TestIsErlangHello(t *testing.T) {
	sn := appendSendName(nil, sendName{Flags: OfferedFlags, Creation: 1, Name: "a@h"})
	old := appendSendName(nil, sendName{Old: true, Version: 5, Name: "a@h"})
	native := []byte{0, 40, 1, 'G', 'O', 'N', 'D'}
	tls := []byte{0x16, 0x03, 0x01, 0x02, 0x00}
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"send_name", sn, true}, {"old send_name", old, true},
		{"native hello", native, false}, {"TLS ClientHello", tls, false},
		{"send_name too long", []byte{0x01, 0x20, 'N'}, false},
		{"send_name too short", []byte{0, sendNameFixed, 'N'}, false},
		{"status", []byte{0, 3, 's'}, false},
	} {
		if got := IsErlangHello(c.b); got != c.want {
			t.Errorf("IsErlangHello(%s) = %v", c.name, got)
		}
		// The byte-by-byte sniffer never gives up on a real send_name and
		// gives up on the others by the third byte.
		for i := 0; i <= len(c.b); i++ {
			may := MayBeErlangHello(c.b[:i])
			if c.want && !may {
				t.Errorf("MayBeErlangHello(%s[:%d]) = false", c.name, i)
			}
			if !c.want && i >= HelloLen && may {
				t.Errorf("MayBeErlangHello(%s[:%d]) = true", c.name, i)
			}
		}
	}
	if MayBeErlangHello(tls[:1]) {
		t.Error("a TLS record's first byte may be a send_name")
	}
}

func TestFlags(t *testing.T) {
	// The values the doc and the BEAM give.
	if Mandatory25 != 0x1070F94 {
		t.Errorf("Mandatory25 = %#x, want 0x1070F94 (erts_internal:get_dflags())", Mandatory25)
	}
	if OfferedFlags != 0xD075F4FBD {
		t.Errorf("OfferedFlags = %#x", OfferedFlags)
	}
	if got := strings.Join(FlagNames(FlagMapTag|FlagUnlinkID|1<<40), ","); got != "MAP_TAG,UNLINK_ID,UNKNOWN<10000000000>" {
		t.Errorf("FlagNames = %s", got)
	}
	if ExpandFlags(FlagMandatory25Digest) != FlagMandatory25Digest|Mandatory25 {
		t.Error("MANDATORY_25_DIGEST does not stand for Mandatory25")
	}
	if ExpandFlags(FlagPublished) != FlagPublished {
		t.Error("ExpandFlags added flags without the digest flag")
	}
	if flagReserved&OfferedFlags != 0 || OfferedFlags&(FlagDistHdrAtomCache|FlagFragments|FlagNameMe) != 0 {
		t.Error("OfferedFlags offers what the dialect does not speak")
	}
	e := &MissingFlagsError{Peer: "x@h", Missing: FlagMapTag | FlagUnlinkID, Dir: "from"}
	if !errors.Is(e, ErrMissingFlags) || !strings.Contains(e.Error(), "MAP_TAG, UNLINK_ID") {
		t.Errorf("MissingFlagsError: %v", e)
	}
}
