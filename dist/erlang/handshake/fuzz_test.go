package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// Every decoder is fuzzed: it must not panic, must refuse what it cannot
// read with ErrProtocol, and what it accepts must encode back to the bytes
// it came from (for send_name, challenge and named status, a prefix of
// them: OTP ignores what follows the name).

func checkRoundTrip(t *testing.T, err error, enc, body []byte, prefixOK bool) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrProtocol) {
			t.Fatalf("error %v is not ErrProtocol", err)
		}
		return
	}
	enc = enc[2:]
	if !bytes.Equal(enc, body) && !(prefixOK && bytes.HasPrefix(body, enc)) {
		t.Fatalf("re-encoded %x, want %x", enc, body)
	}
}

func FuzzReadMessage(f *testing.F) {
	f.Add(appendSendName(nil, sendName{Name: "a@b"}), MaxMessage)
	f.Add([]byte{0xff, 0xff, 1}, MaxMessage)
	f.Add([]byte{0, 0}, replyLen)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		max = max&0x3ff + 1
		body, err := readMessage(bufio.NewReaderSize(bytes.NewReader(data), 16), max)
		if err == nil && (len(body) == 0 || len(body) > max || len(body)+2 > len(data)) {
			t.Fatalf("body of %d bytes from %d, limit %d", len(body), len(data), max)
		}
	})
}

func FuzzDecodeSendName(f *testing.F) {
	f.Add(appendSendName(nil, sendName{Flags: OfferedFlags, Creation: 5, Name: "alpha@host"})[2:])
	f.Add(appendSendName(nil, sendName{Old: true, Version: 5, Flags: 0x1070F94, Name: "a@b"})[2:])
	f.Add([]byte{'N', 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decodeSendName(body)
		checkRoundTrip(t, err, appendSendName(nil, m), body, !m.Old)
	})
}

func FuzzDecodeChallenge(f *testing.F) {
	f.Add(appendChallenge(nil, challenge{Flags: 0xD07DF7FBD, Challenge: 9, Creation: 3, Name: "beta@host"})[2:])
	f.Add([]byte{'N'})
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeChallenge(body)
		checkRoundTrip(t, err, appendChallenge(nil, c), body, true)
	})
}

func FuzzDecodeStatus(f *testing.F) {
	for s := StatusOK; s < StatusNamed; s++ {
		f.Add(appendStatus(nil, statusMsg{Status: s})[2:])
	}
	f.Add(appendStatus(nil, statusMsg{Status: StatusNamed, Name: "x@h", Creation: 1})[2:])
	f.Add([]byte("snamed:"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeStatus(body)
		checkRoundTrip(t, err, appendStatus(nil, s), body, s.Status == StatusNamed)
	})
}

func FuzzDecodeAliveReply(f *testing.F) {
	f.Add([]byte("strue"))
	f.Add([]byte("sfalse"))
	f.Fuzz(func(t *testing.T, body []byte) {
		dead, err := decodeAliveReply(body)
		checkRoundTrip(t, err, appendAliveReply(nil, dead), body, false)
	})
}

func FuzzDecodeComplement(f *testing.F) {
	f.Add(appendComplement(nil, 0xD, 7)[2:])
	f.Fuzz(func(t *testing.T, body []byte) {
		h, c, err := decodeComplement(body)
		checkRoundTrip(t, err, appendComplement(nil, h, c), body, false)
	})
}

func FuzzDecodeReply(f *testing.F) {
	f.Add(appendReply(nil, reply{Challenge: 1, Digest: Digest("c", 2)})[2:])
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeReply(body)
		checkRoundTrip(t, err, appendReply(nil, r), body, false)
	})
}

func FuzzDecodeAck(f *testing.F) {
	f.Add(appendAck(nil, Digest("c", 2))[2:])
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := decodeAck(body)
		checkRoundTrip(t, err, appendAck(nil, d), body, false)
	})
}

func FuzzHello(f *testing.F) {
	f.Add(appendSendName(nil, sendName{Name: "a@b"})[:HelloLen])
	f.Add([]byte{0, 40, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		is := IsErlangHello(b)
		if is && !MayBeErlangHello(b) || len(b) >= HelloLen && is != MayBeErlangHello(b) {
			t.Fatalf("IsErlangHello %v, MayBeErlangHello %v", is, MayBeErlangHello(b))
		}
	})
}

// bounded runs f and fails if it takes more than a few seconds: fed from
// memory, a handshake ends at the input's end and must never wait.
func bounded(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the handshake hangs")
	}
}

// FuzzAccept drives the accepting side with arbitrary bytes from "A". It
// must end with an error or a peer that proved the cookie and has the
// required flags.
func FuzzAccept(f *testing.F) {
	b := cfgB
	b.Rand = zeroRand{}
	good := reply{Challenge: 1, Digest: Digest(b.Cookie, 0)}
	f.Add(appendReply(appendSendName(nil, sendName{Flags: OfferedFlags, Creation: 1, Name: "a@host"}), good))
	f.Add(appendReply(appendSendName(nil, sendName{Flags: OfferedFlags | FlagNameMe, Name: "host"}), good))
	f.Add(appendReply(appendComplement(appendSendName(nil, sendName{Old: true, Version: 5, Flags: OfferedFlags, Name: "a@host"}),
		uint32(OfferedFlags>>32), 3), good))
	f.Add(appendSendName(nil, sendName{Flags: Mandatory25, Name: "a@host"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		bounded(t, func() {
			var out bytes.Buffer
			p, err := Accept(&out, bufio.NewReader(bytes.NewReader(data)), b, func(p PeerInfo) Status {
				if len(data) > 0 && data[len(data)-1] == 1 {
					return StatusAlive
				}
				return StatusOK
			})
			if err != nil {
				return
			}
			if !ValidName(p.Name) || p.Name == b.Name || missingFlags(RequiredFlags, p.Flags) != 0 {
				t.Fatalf("accepted %+v", p)
			}
			if !bytes.Contains(data, good.Digest[:]) {
				t.Fatal("accepted without the digest")
			}
		})
	})
}

// FuzzInitiate drives the dialing side with arbitrary bytes from "B".
func FuzzInitiate(f *testing.F) {
	a := cfgA
	a.Rand = zeroRand{}
	f.Add(bScript(statusMsg{Status: StatusOK}, "b@host"))
	f.Add(bScript(statusMsg{Status: StatusAlive}, "b@host"))
	f.Add(bScript(statusMsg{Status: StatusNamed, Name: "d@host", Creation: 2}, "b@host"))
	f.Add(appendStatus(nil, statusMsg{Status: StatusNok}))
	f.Fuzz(func(t *testing.T, data []byte) {
		bounded(t, func() {
			p, err := Initiate(io.Discard, bufio.NewReader(bytes.NewReader(data)), a, "b@host")
			if err != nil {
				return
			}
			ack := Digest(a.Cookie, 0)
			if p.Name != "b@host" || missingFlags(RequiredFlags, p.Flags) != 0 || !bytes.Contains(data, ack[:]) {
				t.Fatalf("accepted %+v", p)
			}
		})
	})
}
