package global

import (
	"testing"

	"github.com/gonode/gonode/proc"
)

// Garbage sent to a name server, from its own node and from a peer, is
// logged and dropped; the server lives on and keeps working.
func TestBadInputIsIgnored(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0, Options{})
	a := ns[0]
	p := holder(t, a, false, proc.Pid{})
	ref := a.Proc().MakeRef()
	garbage := []any{
		"hello", int64(42), nil, []any{}, map[string]any{"x": 1},
		[]any{"global_claim"},                            // a string, not an atom, as tag
		[]any{proc.Atom("global_nonsense"), int64(1)},    // unknown tag
		[]any{tagClaim},                                  // fields missing
		[]any{tagClaim, "not a ref", "n", p, p},          // wrong type
		[]any{tagClaim, ref, "", p, p},                   // empty name
		[]any{tagClaim, ref, "n", proc.Pid{}, p},         // zero pid
		[]any{tagCommit, ref, "n", p, "later", int64(0)}, // at not a number
		[]any{tagSync, int64(99), "b@localhost", p, nil}, // a future version
		[]any{tagSync, int64(1), "b@localhost", p, "no"}, // entries not a list
		[]any{tagSync, int64(1), "b@localhost", p, []any{[]any{"n"}}},
		[]any{tagSync, int64(1), "b@localhost", p, []any{[]any{"n", "pid", int64(1), int64(0)}}},
		[]any{tagSync, int64(1), "z@localhost", p, nil},    // a sync from a pid of another node
		[]any{tagClaimed, ref, "b@localhost", statusOK, p}, // an answer to nothing
		[]any{tagUnreg, "x", "n", p},
	}
	before := c.Logs.Count("ignoring")
	sender := attach(t, ns[1])
	for _, g := range garbage {
		if err := sender.SendName(proc.Name{Name: ServerName, Node: a.Name()}, g); err != nil {
			t.Fatalf("send %v: %v", g, err)
		}
		if err := a.Proc().Send(ss[0].Pid(), g); err != nil {
			t.Fatalf("local send %v: %v", g, err)
		}
	}
	// The answer to nothing is dropped without a word; the rest are logged.
	want := before + 2*(len(garbage)-1)
	eventually(t, "every bad message logged", func() bool { return c.Logs.Count("ignoring") >= want })
	if !a.Proc().Alive(ss[0].Pid()) {
		t.Fatal("the name server died of bad input")
	}
	if err := ss[0].Register(ctxFor(t), "still", p); err != nil {
		t.Fatalf("register after bad input: %v", err)
	}
	waitName(t, "still", p, ss...)
	if _, ok := ss[0].Whereis("n"); ok {
		t.Error("bad input registered a name")
	}
	t.Logf("%d lines logged, e.g. %q", c.Logs.Count("ignoring")-before, c.Logs.First("ignoring"))
}
