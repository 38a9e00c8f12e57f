package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// Every decoder is fuzzed: it must not panic, must refuse what it cannot
// read with ErrProtocol (or ErrBadVersion), and what it accepts must encode
// back to the same bytes (the layouts have a single encoding).

func FuzzFrameReader(f *testing.F) {
	var seed bytes.Buffer
	fw := NewFrameWriter(bufio.NewWriter(&seed), 0)
	fw.WriteFrame([]byte("hello"))
	fw.WriteTick()
	fw.WriteFrame(bytes.Repeat([]byte{7}, 300))
	fw.Flush()
	f.Add(seed.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 1, 0, 1, 2})
	f.Add([]byte{0, 0, 0})
	const limit = 1 << 12
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := NewFrameReader(bufio.NewReaderSize(bytes.NewReader(data), 64), limit)
		var out bytes.Buffer
		fw := NewFrameWriter(bufio.NewWriter(&out), limit)
		consumed := 0
		for {
			p, err := fr.ReadFrame()
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				if err == io.EOF && consumed != len(data) {
					t.Fatalf("EOF after %d of %d bytes", consumed, len(data))
				}
				break
			}
			if len(p) > limit {
				t.Fatalf("frame of %d bytes over the limit", len(p))
			}
			consumed += FrameHeaderLen + len(p)
			if err := fw.WriteFrame(p); err != nil {
				t.Fatal(err)
			}
		}
		fw.Flush()
		// What was read re-encodes to the bytes it came from.
		if !bytes.Equal(out.Bytes(), data[:consumed]) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func FuzzReadMessage(f *testing.F) {
	f.Add(appendHello(nil, hello{Version: Version, Name: "a@b"}))
	f.Add([]byte{0xff, 0xff, 1})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := readMessage(bufio.NewReaderSize(bytes.NewReader(data), 16))
		if err != nil {
			return
		}
		if len(body) == 0 || len(body) > MaxHandshakeMessage || len(body)+2 > len(data) {
			t.Fatalf("body of %d bytes from %d", len(body), len(data))
		}
	})
}

func FuzzDecodeHello(f *testing.F) {
	f.Add(appendHello(nil, hello{Version: Version, Name: "alpha@host", Creation: 3, Flags: 1 << 40, Hidden: true})[2:])
	f.Add(appendHello(nil, hello{Version: Version + 1, Name: "a@b"})[2:])
	f.Add([]byte{tagHello, 'G', 'O', 'N', 'D', 0, 1})
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := decodeHello(body)
		if errors.Is(err, ErrBadVersion) {
			if h.Version == Version {
				t.Fatal("bad version error for our own version")
			}
			return
		}
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if got := appendHello(nil, h)[2:]; !bytes.Equal(got, body) {
			t.Fatalf("re-encoded %x, want %x", got, body)
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	for s := StatusOK; s <= StatusBadVersion; s++ {
		f.Add(appendStatus(nil, s)[2:])
	}
	f.Add([]byte{tagStatus})
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeStatus(body)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if got := appendStatus(nil, s)[2:]; !bytes.Equal(got, body) {
			t.Fatalf("re-encoded %x, want %x", got, body)
		}
	})
}

func FuzzDecodeChallenge(f *testing.F) {
	f.Add(appendChallenge(nil, challenge{Name: "beta@host", Creation: 1, Flags: 2, Hidden: true, Nonce: [NonceLen]byte{1, 2, 3}})[2:])
	f.Add([]byte{tagChallenge})
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeChallenge(body)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if got := appendChallenge(nil, c)[2:]; !bytes.Equal(got, body) {
			t.Fatalf("re-encoded %x, want %x", got, body)
		}
	})
}

func FuzzDecodeReply(f *testing.F) {
	f.Add(appendReply(nil, reply{Nonce: [NonceLen]byte{9}, Digest: [DigestLen]byte{8}})[2:])
	f.Add([]byte{tagReply, 1, 2})
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeReply(body)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if got := appendReply(nil, r)[2:]; !bytes.Equal(got, body) {
			t.Fatalf("re-encoded %x, want %x", got, body)
		}
	})
}

func FuzzDecodeAck(f *testing.F) {
	f.Add(appendAck(nil, [DigestLen]byte{5, 6})[2:])
	f.Add(appendAuthFail(nil)[2:])
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := decodeAck(body)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if got := appendAck(nil, d)[2:]; !bytes.Equal(got, body) {
			t.Fatalf("re-encoded %x, want %x", got, body)
		}
	})
}

func FuzzDecodeAliveAnswer(f *testing.F) {
	f.Add(appendAliveAnswer(nil, true)[2:])
	f.Add(appendAliveAnswer(nil, false)[2:])
	f.Fuzz(func(t *testing.T, body []byte) {
		dead, err := decodeAliveAnswer(body)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if got := appendAliveAnswer(nil, dead)[2:]; !bytes.Equal(got, body) {
			t.Fatalf("re-encoded %x, want %x", got, body)
		}
	})
}

// zeroRand makes nonces deterministic, so the fuzzer can reach the digest
// checks.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// FuzzAccept drives the whole accepting side with arbitrary bytes from "A".
// It must end with an error or a valid peer, never panic or hang.
func FuzzAccept(f *testing.F) {
	a := cfgA
	a.Rand = zeroRand{}
	b := cfgB
	b.Rand = zeroRand{}
	// A full, valid script from A, given zero nonces on both sides.
	me := hello{Version: Version, Name: a.Name, Creation: a.Creation, Flags: a.Flags, Hidden: a.Hidden}
	ch := challenge{Name: b.Name, Creation: b.Creation, Flags: b.Flags, Hidden: b.Hidden}
	tr := transcript{a: me, b: ch}
	script := appendHello(nil, me)
	script = appendReply(script, reply{Digest: tr.digest(a.Cookie, 'A')})
	f.Add(script)
	f.Add(appendHello(nil, me))
	f.Add(appendHello(nil, hello{Version: 9, Name: "x@y"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		p, err := Accept(&out, bufio.NewReader(bytes.NewReader(data)), b, nil)
		if err == nil && (!ValidName(p.Name) || p.Name == b.Name) {
			t.Fatalf("accepted bad peer %+v", p)
		}
		if err == nil && !bytes.Equal(data[:len(script)], script) {
			t.Fatalf("accepted a handshake that is not the valid script")
		}
	})
}

// FuzzInitiate drives the dialing side with arbitrary bytes from "B".
func FuzzInitiate(f *testing.F) {
	a := cfgA
	a.Rand = zeroRand{}
	me := hello{Version: Version, Name: a.Name, Creation: a.Creation, Flags: a.Flags, Hidden: a.Hidden}
	ch := challenge{Name: cfgB.Name, Creation: cfgB.Creation, Flags: cfgB.Flags}
	tr := transcript{a: me, b: ch}
	script := appendStatus(nil, StatusOK)
	script = appendChallenge(script, ch)
	script = appendAck(script, tr.digest(a.Cookie, 'B'))
	f.Add(script)
	f.Add(appendStatus(nil, StatusNok))
	f.Add(append(appendStatus(nil, StatusOK), appendChallenge(nil, ch)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Initiate(io.Discard, bufio.NewReader(bytes.NewReader(data)), a, cfgB.Name)
		if err == nil && p.Name != cfgB.Name {
			t.Fatalf("accepted peer %q, dialed %q", p.Name, cfgB.Name)
		}
	})
}
