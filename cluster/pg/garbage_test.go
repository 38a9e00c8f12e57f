package pg

import (
	"testing"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// Messages that are not the scope protocol, or break it, reach the scope
// from its own node and from peers: each is ignored with a log line, and
// the scope goes on serving.
func TestGarbageIgnored(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0)
	a, b := ns[0], ns[1]
	pa, pb := spawnMember(t, a), spawnMember(t, b)
	if err := ss[0].Join("g", pa); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", ss, pa)

	junk := []any{
		42, "hello", nil, []any{}, []any{"pg_join"}, map[string]any{"k": 1},
		[]any{tagJoin, pb},                                  // too short
		[]any{tagJoin, pb, 7, []any{pb}},                    // group not a string
		[]any{tagJoin, pb, "g", "not a list"},               // pids not a list
		[]any{tagJoin, pb, "g", []any{pa}},                  // a member of another node than the sender
		[]any{tagJoin, pb, "g", []any{"x"}},                 // not a pid
		[]any{tagSync, pb, "x"},                             // groups not a list
		[]any{tagSync, pb, []any{[]any{"g"}}},               // entry not a pair
		[]any{tagSync, pb, []any{[]any{1, []any{pb}}}},      // group not a string
		[]any{tagSync, pb, []any{[]any{"g", []any{pa}}}},    // a member of another node
		[]any{tagDiscover, proc.Pid{}},                      // the zero pid
		[]any{proc.Atom("pg_nonsense"), pb},                 // an unknown tag
		[]any{tagDiscover, pb, "extra"},                     // too long
		[]any{tagLeave, pb, "g", []any{pb, proc.Atom("x")}}, // not a pid
	}
	scope := proc.Name{Name: "test", Node: a.Name()}
	from := attach(t, b)
	for _, m := range junk {
		if err := a.Proc().SendName(scope, m); err != nil { // local: the values as they are
			t.Fatal(err)
		}
		if err := from.SendName(scope, m); err != nil { // from b: through the codec
			t.Fatal(err)
		}
	}
	// Well-formed but out of place: a join from a scope a never synced
	// with is dropped silently; a discover claiming a process of a's own
	// node is logged; a DOWN and a NodeDown nobody asked for change nothing.
	for _, m := range []any{
		[]any{tagJoin, pb, "g", []any{pb}},
		[]any{tagLeave, pb, "g", []any{pb}},
		[]any{tagDiscover, pa},
		proc.DownMsg{Ref: a.Proc().MakeRef(), Pid: pa, Reason: proc.Killed},
		dist.NodeDown{Node: b.Name(), Reason: "made up"},
		&request{}, // no op, no reply channel
	} {
		if err := a.Proc().SendName(scope, m); err != nil {
			t.Fatal(err)
		}
	}
	// A request that panics the handler (a monitor without a subscriber)
	// is answered with an error, and the scope goes on.
	bad := &request{op: opMonitor, reply: make(chan reply, 1)}
	if err := a.Proc().SendName(scope, bad); err != nil {
		t.Fatal(err)
	}
	if r := <-bad.reply; r.err == nil {
		t.Error("a request that panicked the scope got no error")
	}
	if n := c.Logs.Count("pg: scope test: panic handling"); n != 1 {
		t.Errorf("%d log lines of the panic", n)
	}
	want := 2*len(junk) + 1
	eventually(t, "a log line per bad message", func() bool { return c.Logs.Count("pg: scope test: ") >= want })

	// Still serving, and the garbage joined nobody.
	if err := ss[0].Join("g", pa); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", ss, pa, pa)
	if !a.Proc().Alive(ss[0].Pid()) {
		t.Fatal("the scope died of garbage")
	}
	if n := c.Logs.Count("pg: scope test: ignoring"); n < want {
		t.Errorf("%d ignoring lines for %d bad messages", n, want)
	}
}
