package erlang

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// TestRealNodeFragments exchanges a 4 MB binary with a real OTP node
// both ways: the BEAM sends it in fragments (FRAGMENTS agreed), which the
// codec reassembles; gonode sends it whole after a distribution header.
func TestRealNodeFragments(t *testing.T) {
	const cookie = "frag_cookie_5"
	erl := startErl(t, cookie)
	n, _, _, _ := startGonode(t, erl, cookie)
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
}
