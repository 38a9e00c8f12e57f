package erlang

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/erlang/handshake"
	"github.com/gonode/gonode/proc"
)

// fragment builds the packet of fragment id of sequence seq, as a BEAM
// that agreed FRAGMENTS writes it.
func fragment(first bool, seq, id uint64, data []byte) []byte {
	typ := byte(fragCont)
	if first {
		typ = fragHeader
	}
	b := []byte{etf.VersionMagic, typ}
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint64(b, id)
	if first {
		b = append(b, 0) // no atom cache references
	}
	return append(b, data...)
}

// body is a SEND_SENDER to pidG of msg after a distribution header, its
// terms untagged.
func body(t testing.TB, msg any) []byte {
	b, err := etf.AppendUntagged(nil, etf.Tuple{int64(opSendSender), pidToWire(pidB), pidToWire(pidG)})
	if err == nil {
		b, err = etf.AppendUntagged(b, msg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// split cuts b into n fragments of sequence seq (n at least 1).
func split(b []byte, seq uint64, n int) [][]byte {
	n = max(1, min(n, len(b)))
	var out [][]byte
	for i := range n {
		part := b[i*len(b)/n : (i+1)*len(b)/n]
		out = append(out, fragment(i == 0, seq, uint64(n-i), part))
	}
	return out
}

// Fragments of two sequences interleaved with a whole message decode to
// the messages; each fragment but the last is ignored.
func TestFragmentsDecode(t *testing.T) {
	c := NewCodec(self, 7, peer, agreed|handshake.FlagFragments)
	big1, big2 := make([]byte, 1000), make([]byte, 700)
	for i := range big1 {
		big1[i] = byte(i)
	}
	a, b := split(body(t, string(big1)), 1, 5), split(body(t, string(big2)), 2, 3)
	whole := append([]byte{etf.VersionMagic, distHeader, 0}, body(t, etf.Atom("small"))...)
	order := [][]byte{a[0], b[0], a[1], whole, b[1], a[2], a[3], b[2], a[4]}
	var got []any
	for _, f := range order {
		m, _, err := c.DecodeReply(f)
		switch {
		case errors.Is(err, dist.ErrIgnored):
		case err != nil:
			t.Fatalf("decode: %v", err)
		default:
			if m.Kind != dist.KindSend || m.From != pidB || m.To != pidG {
				t.Fatalf("decoded %#v", m)
			}
			got = append(got, m.Payload)
		}
	}
	if want := []any{proc.Atom("small"), string(big2), string(big1)}; !reflect.DeepEqual(got, want) {
		t.Errorf("messages %d, want small, then the 700 and the 1000 bytes: %#v", len(got), got)
	}
	if c.frags.held != 0 || len(c.frags.seqs) != 0 {
		t.Errorf("reassembly holds %v after the last fragments", &c.frags)
	}

	// What gonode sends to such a peer has the header, and decodes back.
	out := dist.Message{Kind: dist.KindSend, From: pidG, To: pidB, Payload: string(big1)}
	frame, err := c.Encode(nil, &out)
	if err != nil || frame[0] != etf.VersionMagic || frame[1] != distHeader || frame[2] != 0 {
		t.Fatalf("encoded % x, %v; want a distribution header", frame[:min(len(frame), 3)], err)
	}
	if m, err := c.Decode(frame); err != nil || !reflect.DeepEqual(m, out) {
		t.Errorf("round trip: %#v, %v", m, err)
	}
}

// A peer beyond the bounds, or out of the protocol, is malformed: dist
// closes the connection and logs why.
func TestFragmentsRefused(t *testing.T) {
	data := body(t, "0123456789")
	for _, tt := range []struct {
		name   string
		frames [][]byte
	}{
		{"unknown sequence", [][]byte{fragment(false, 1, 1, data)}},
		{"out of order", [][]byte{fragment(true, 1, 3, data), fragment(false, 1, 1, data)}},
		{"restarted", [][]byte{fragment(true, 1, 3, data), fragment(true, 1, 3, data)}},
		{"fragment id 0", [][]byte{fragment(true, 1, 0, data)}},
		{"atom cache refs", [][]byte{{etf.VersionMagic, distHeader, 1, 0}}},
		{"short header", [][]byte{fragment(true, 1, 2, nil)[:17]}},
		{"over the limit", [][]byte{fragment(true, 1, 3, data), fragment(false, 1, 2, make([]byte, 100))}},
	} {
		c := NewCodec(self, 7, peer, agreed|handshake.FlagFragments)
		c.frags.limit = 64
		var err error
		for _, f := range tt.frames {
			if _, _, err = c.DecodeReply(f); err != nil && !errors.Is(err, dist.ErrIgnored) {
				break
			}
		}
		if !errors.Is(err, dist.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", tt.name, err)
		}
	}
	c := NewCodec(self, 7, peer, agreed|handshake.FlagFragments)
	var err error
	for seq := range uint64(maxSequences + 1) {
		if _, _, err = c.DecodeReply(fragment(true, seq, 2, data)); !errors.Is(err, dist.ErrIgnored) {
			break
		}
	}
	if !errors.Is(err, dist.ErrMalformed) || len(c.frags.seqs) != maxSequences {
		t.Errorf("sequence %d in flight: %v, want ErrMalformed at %d", len(c.frags.seqs)+1, err, maxSequences+1)
	}
}

// FuzzFragments: a message cut in any number of fragments comes back
// whole, and arbitrary packets never panic nor hold more than the bounds.
func FuzzFragments(f *testing.F) {
	f.Add([]byte("hello"), uint8(3), []byte{})
	f.Add(make([]byte, 300), uint8(40), fragment(true, 9, 2, []byte{104, 1}))
	f.Add([]byte{}, uint8(0), append([]byte{19}, fragment(true, 1, 3, []byte{104, 2, 97})...))
	f.Fuzz(func(t *testing.T, msg []byte, cuts uint8, noise []byte) {
		c := NewCodec(self, 7, peer, agreed|handshake.FlagFragments)
		c.frags.limit = 1 << 12
		frames := split(body(t, string(msg)), 5, int(cuts))
		for i, fr := range frames {
			m, _, err := c.DecodeReply(fr)
			last := i == len(frames)-1
			switch {
			case !last && !errors.Is(err, dist.ErrIgnored):
				t.Fatalf("fragment %d of %d: %v", i+1, len(frames), err)
			case last && err != nil && !errors.Is(err, dist.ErrMalformed):
				t.Fatalf("last fragment: %v", err)
			case last && err == nil && m.Payload != string(msg):
				t.Fatalf("reassembled %q, want %q", m.Payload, msg)
			}
		}
		// noise: frames of [Len:u8][bytes] fed to a fresh codec.
		c = NewCodec(self, 7, peer, agreed|handshake.FlagFragments)
		c.frags.limit = 1 << 10
		for len(noise) > 0 {
			n := min(int(noise[0]), len(noise)-1)
			_, _, err := c.DecodeReply(noise[1 : 1+n])
			noise = noise[1+n:]
			if err != nil && !errors.Is(err, dist.ErrIgnored) && !errors.Is(err, dist.ErrMalformed) {
				t.Fatalf("error %v is neither malformed nor ignored", err)
			}
			if c.frags.held > c.frags.limit || len(c.frags.seqs) > maxSequences {
				t.Fatalf("reassembly holds %v", &c.frags)
			}
		}
	})
}
