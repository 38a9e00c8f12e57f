package erlang

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
)

// TestRealNodeFragments exchanges a 4 MB binary with a real OTP node
// both ways, in fragments of 64 KiB (FRAGMENTS agreed): the BEAM's, which
// the codec reassembles, and gonode's, counted as dist writes them (in an
// erpc call's arguments, a message to a registered name and an erpc
// call's result), which the BEAM takes and answers.
func TestRealNodeFragments(t *testing.T) {
	const cookie = "frag_cookie_5"
	erl := startErl(t, cookie)
	fns, _ := testFuncs(t)
	sent := &fragLog{seqs: map[uint64][]int{}}
	proto := Protocol()
	newConn := proto.NewConn
	proto.NewConn = func(p wire.PeerInfo) dist.Codec { return countingCodec{newConn(p).(*Codec), sent} }
	logs := &logBuf{}
	n, err := dist.Start(context.Background(), dist.Config{
		Name: gonodeName, Cookie: cookie, EPMDAddr: erl.epmd, Foreign: proto, Logf: logs.logf, Functions: fns,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Close()
		if t.Failed() {
			t.Logf("gonode logged:\n%s", logs)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := n.Connect(ctx, erl.name); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	const size = 4 << 20
	want := strings.Repeat("ab", size/2)

	// Into gonode: an erpc result of 4 MB (the DOWN that carries it).
	r, err := n.RPC(ctx, erl.name, "binary:copy", "ab", size/2)
	if s, ok := r.(string); err != nil || !ok || s != want {
		t.Fatalf("binary:copy: %d bytes (%T), %v; want %d bytes", len(s), r, err, size)
	}
	// Out of gonode: an erpc argument of 4 MB.
	if r, err := n.RPC(ctx, erl.name, "erlang:byte_size", want); err != nil || r != size {
		t.Errorf("byte_size: %v, %v; want %d", r, err, size)
	}
	// Out and back in: the BEAM calls gonode's Upper with the 4 MB it
	// got, and gonode's result goes to it in fragments too.
	r, err = n.RPC(ctx, erl.name, "erpc:call", proc.Atom(gonodeName), proc.Atom("gonode"), proc.Atom("Upper"), []any{want})
	if s, _ := r.(string); err != nil || s != strings.ToUpper(want) {
		t.Errorf("erpc:call of gonode:Upper from erl: %d bytes (%T), %v; want %d", len(s), r, err, size)
	}
	// Both ways in one round trip, several times over, with small
	// messages between: responder answers {From, Msg} with {reply, Msg}.
	a, err := n.Proc().Attach(proc.SpawnOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Exit(proc.Normal)
	responder := proc.Name{Name: "responder", Node: erl.name}
	for i := range 3 {
		for _, msg := range []any{want[i:], "small"} {
			if err := a.SendName(responder, etf.Tuple{a.Pid(), msg}); err != nil {
				t.Fatal(err)
			}
		}
		for _, msg := range []any{want[i:], "small"} {
			m, err := a.ReceiveTimeout(20 * time.Second)
			r, _ := m.(etf.Tuple)
			if err != nil || len(r) != 2 || r[0] != proc.Atom("reply") || r[1] != msg {
				t.Fatalf("round %d: got %T of %d, %v; want the reply", i, m, len(r), err)
			}
		}
	}
	// What gonode wrote: six messages of 4 MB (4 MiB and a few bytes of
	// terms), each in 65 fragments of 64 KiB of the message but the last.
	if got := sent.check(t); got != 6 {
		t.Errorf("%d messages sent in fragments, want 6", got)
	}
}

// countingCodec records the fragments its Codec hands dist.
type countingCodec struct {
	*Codec
	log *fragLog
}

func (c countingCodec) Fragments(payload []byte, frame func(head, data []byte)) bool {
	return c.Codec.Fragments(payload, func(head, data []byte) {
		c.log.add(head, data)
		frame(head, data)
	})
}

// fragLog holds, per sequence, the bytes of the message each fragment
// carried.
type fragLog struct {
	mu   sync.Mutex
	seqs map[uint64][]int
}

func (l *fragLog) add(head, data []byte) {
	share := len(data)
	if head[1] == fragHeader {
		share -= controlLen(data)
	}
	l.mu.Lock()
	seq := binary.BigEndian.Uint64(head[2:])
	l.seqs[seq] = append(l.seqs[seq], share)
	l.mu.Unlock()
}

// check reports any sequence that is not 65 fragments of 64 KiB (the last
// at most), and returns how many there were.
func (l *fragLog) check(t *testing.T) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for seq, shares := range l.seqs {
		if len(shares) != 65 {
			t.Errorf("sequence %d: %d fragments, want 65", seq, len(shares))
		}
		for i, s := range shares {
			if s > fragSize || s <= 0 || (i < len(shares)-1 && s != fragSize) {
				t.Errorf("sequence %d: fragment %d of %d carries %d bytes", seq, i+1, len(shares), s)
			}
		}
	}
	return len(l.seqs)
}
