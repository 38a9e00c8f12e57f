package erlang

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/erlang/handshake"
	"github.com/gonode/gonode/proc"
)

// sentFrag is one fragment as Fragments hands it to dist.
type sentFrag struct{ head, data []byte }

func cut(c *Codec, payload []byte) ([]sentFrag, bool) {
	var out []sentFrag
	ok := c.Fragments(payload, func(head, data []byte) {
		out = append(out, sentFrag{bytes.Clone(head), bytes.Clone(data)})
	})
	return out, ok
}

// A message goes in ceil(len/64 KiB) fragments once its term is over 64
// KiB: the first carries the control message and 64 KiB of the message,
// the next ones 64 KiB each, ids counting down to 1, one sequence id per
// message; another codec reassembles them into the message sent.
func TestFragmentsSplit(t *testing.T) {
	const binHead = 5 // BINARY_EXT, Len:u32: a string's term is 5 bytes over its length
	c := NewCodec(self, 7, peer, agreed|handshake.FlagFragments)
	in := NewCodec(peer, 3, self, agreed|handshake.FlagFragments)
	seen := map[uint64]bool{}
	for _, tt := range []struct {
		msgLen, frags int // the message term's length; 0 fragments: sent whole
	}{
		{100, 0},
		{fragSize - 1, 0},
		{fragSize, 0},
		{fragSize + 1, 2},
		{2 * fragSize, 2},
		{2*fragSize + 1, 3},
		{3 * fragSize, 3},
		{64*fragSize + 7, 65},
	} {
		out := dist.Message{Kind: dist.KindSend, From: pidG, To: pidB, Payload: strings.Repeat("x", tt.msgLen-binHead)}
		payload, err := c.Encode(nil, &out)
		if err != nil {
			t.Fatal(err)
		}
		ctl := controlLen(payload[3:])
		if got := len(payload) - 3 - ctl; ctl <= 0 || got != tt.msgLen {
			t.Fatalf("message term of %d bytes (control %d), want %d", got, ctl, tt.msgLen)
		}
		frags, ok := cut(c, payload)
		if ok != (tt.frags > 0) || len(frags) != tt.frags {
			t.Errorf("message of %d bytes: %d fragments (%v), want %d", tt.msgLen, len(frags), ok, tt.frags)
			continue
		}
		if !ok {
			continue
		}
		var data []byte
		var seq uint64
		for i, f := range frags {
			typ, headLen, share := byte(fragCont), 18, len(f.data)
			if i == 0 {
				typ, headLen, share = fragHeader, 19, len(f.data)-ctl
			}
			if len(f.head) != headLen || f.head[0] != etf.VersionMagic || f.head[1] != typ || (i == 0 && f.head[18] != 0) {
				t.Fatalf("fragment %d: header % x", i, f.head)
			}
			if i == 0 {
				seq = binary.BigEndian.Uint64(f.head[2:])
			}
			if s := binary.BigEndian.Uint64(f.head[2:]); s != seq || s == 0 {
				t.Fatalf("fragment %d: sequence %d, want %d (not 0)", i, s, seq)
			}
			if id := binary.BigEndian.Uint64(f.head[10:]); id != uint64(len(frags)-i) {
				t.Fatalf("fragment %d: id %d, want %d", i, id, len(frags)-i)
			}
			if share > fragSize || share <= 0 || (i < len(frags)-1 && share != fragSize) {
				t.Fatalf("fragment %d of %d carries %d bytes of the message", i+1, len(frags), share)
			}
			data = append(data, f.data...)
			m, _, err := in.DecodeReply(append(bytes.Clone(f.head), f.data...))
			switch last := i == len(frags)-1; {
			case !last && !errors.Is(err, dist.ErrIgnored):
				t.Fatalf("fragment %d decoded: %v", i, err)
			case last && (err != nil || m.Payload != out.Payload || m.From != pidG || m.To != pidB):
				t.Fatalf("reassembled: %v, %v", m.Kind, err)
			}
		}
		if !bytes.Equal(data, payload[3:]) {
			t.Errorf("fragments' data (%d bytes) is not the packet's body (%d)", len(data), len(payload)-3)
		}
		if seen[seq] {
			t.Errorf("sequence id %d used twice", seq)
		}
		seen[seq] = true
	}
}

// What is not fragmented: any packet to a peer without FRAGMENTS, and a
// large control message without a message after it (an exit reason, as
// OTP sends it whole).
func TestFragmentsWhole(t *testing.T) {
	big := strings.Repeat("y", 3*fragSize)
	old := NewCodec(self, 7, peer, agreed)
	send := dist.Message{Kind: dist.KindSend, From: pidG, To: pidB, Payload: big}
	if p, err := old.Encode(nil, &send); err != nil {
		t.Fatal(err)
	} else if frags, ok := cut(old, p); ok || len(frags) != 0 {
		t.Errorf("without FRAGMENTS: %d fragments", len(frags))
	}
	c := NewCodec(self, 7, peer, agreed|handshake.FlagFragments)
	exit := dist.Message{Kind: dist.KindExit, From: pidG, To: pidB, Payload: etf.Tuple{proc.Atom("shutdown"), big}}
	if p, err := c.Encode(nil, &exit); err != nil {
		t.Fatal(err)
	} else if frags, ok := cut(c, p); ok || len(frags) != 0 {
		t.Errorf("EXIT of %d bytes: %d fragments", len(p), len(frags))
	}
}

// BenchmarkFragments: what cutting a 4 MiB message into its 65 fragments
// costs on top of copying it into a queue, as dist does.
func BenchmarkFragments(b *testing.B) {
	c := NewCodec(self, 7, peer, agreed|handshake.FlagFragments)
	m := dist.Message{Kind: dist.KindSend, From: pidG, To: pidB, Payload: strings.Repeat("x", 4<<20)}
	payload, err := c.Encode(nil, &m)
	if err != nil {
		b.Fatal(err)
	}
	queue := make([]byte, 0, 2*len(payload))
	frame := func(head, data []byte) {
		queue = append(append(queue, 0, 0, 0, 0), head...)
		queue = append(queue, data...)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		queue = queue[:0]
		if !c.Fragments(payload, frame) {
			b.Fatal("not fragmented")
		}
	}
}
