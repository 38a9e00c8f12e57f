package global

import (
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// healResult is what one split-register-heal round measured.
type healResult struct {
	exitAfter, notifyAfter time.Duration // from Heal to the loser told
}

// splitRegisterHeal cuts a off from b and c, registers "x" and "y" on both
// sides, heals, and checks the resolution: the earlier registration keeps
// each name on every node, and each loser is told once, x's by an exit
// signal (a's default), y's by a Conflict message (c registers with
// ResolveNotify). Nobody calls Connect after the heal: the servers
// reconnect. tick is the nodes' tick time, which bounds how long the
// partition takes to be noticed.
func splitRegisterHeal(t testing.TB, round int, c *testCluster, ns []*dist.Node, ss []*Server) healResult {
	t.Helper()
	a, b, cc := ns[0], ns[1], ns[2]
	pre := holder(t, b, false, proc.Pid{})
	if err := ss[0].Register(ctxFor(t), "pre", pre); err != nil {
		t.Fatalf("round %d: pre: %v", round, err)
	}
	c.Mem.Partition(a.Name(), b.Name())
	c.Mem.Partition(a.Name(), cc.Name())
	eventually(t, "the partition noticed by the name servers", func() bool {
		return ss[0].participants() == 0 && ss[1].participants() == 1 && ss[2].participants() == 1
	})
	// A name held across the cut is gone on a's side, kept on b's.
	waitName(t, "pre", proc.Pid{}, ss[0])
	waitName(t, "pre", pre, ss[1], ss[2])

	watch := attach(t, a)  // watches a's losers
	inbox := attach(t, cc) // gets what c's holders forward
	pb := holder(t, b, false, proc.Pid{})
	qa := holder(t, a, false, proc.Pid{})
	pa := holder(t, a, false, proc.Pid{})
	qc := holder(t, cc, false, inbox.Pid())
	mon := watch.Monitor(pa)
	// x: b's side first, so a's pa loses; y: a first, so c's qc loses.
	if err := ss[1].Register(ctxFor(t), "x", pb); err != nil {
		t.Fatalf("round %d: x on b: %v", round, err)
	}
	if err := ss[0].Register(ctxFor(t), "y", qa); err != nil {
		t.Fatalf("round %d: y on a: %v", round, err)
	}
	if err := ss[0].Register(ctxFor(t), "x", pa); err != nil {
		t.Fatalf("round %d: x on a, cut off: %v", round, err)
	}
	if err := ss[2].Register(ctxFor(t), "y", qc); err != nil {
		t.Fatalf("round %d: y on c, cut off: %v", round, err)
	}

	healed := time.Now()
	c.Mem.Heal(a.Name(), b.Name())
	c.Mem.Heal(a.Name(), cc.Name())
	var r healResult
	for r.exitAfter == 0 || r.notifyAfter == 0 {
		select {
		case <-time.After(waitTime):
			t.Fatalf("round %d: losers not told after the heal (exit after %v, notify after %v)\n%s", round, r.exitAfter, r.notifyAfter, c.Logs.Text())
		default:
		}
		if m, err := watch.ReceiveTimeout(time.Millisecond); err == nil {
			d, ok := m.(proc.DownMsg)
			if !ok || d.Ref != mon {
				t.Fatalf("round %d: a's watcher got %v", round, m)
			}
			reason, _ := d.Reason.([]any)
			if len(reason) != 2 || reason[0] != atomConflict || reason[1] != "x" {
				t.Fatalf("round %d: the loser of x exited with %v, want {global_name_conflict, x}", round, d.Reason)
			}
			r.exitAfter = time.Since(healed)
		}
		if m, err := inbox.ReceiveTimeout(time.Millisecond); err == nil {
			f := m.([]any)
			conf, ok := f[1].(Conflict)
			if f[0] != qc || !ok || conf.Name != "y" || conf.Winner != qa {
				t.Fatalf("round %d: c's holder got %v, want a Conflict over y won by %v", round, m, qa)
			}
			r.notifyAfter = time.Since(healed)
		}
	}
	waitName(t, "x", pb, ss...)
	waitName(t, "y", qa, ss...)
	waitName(t, "pre", pre, ss...) // back on a with the sync
	if !cc.Proc().Alive(qc) {
		t.Errorf("round %d: the notified loser was killed", round)
	}
	// Told once: nothing more comes.
	if m, err := inbox.ReceiveTimeout(50 * time.Millisecond); err == nil {
		t.Errorf("round %d: c's holder got a second message: %v", round, m)
	}
	for _, name := range []string{"x", "y"} {
		if err := ss[1].Unregister(ctxFor(t), name); err != nil {
			t.Fatal(err)
		}
	}
	_ = b.Proc().Exit(pre, proc.Kill)
	_ = b.Proc().Exit(pb, proc.Kill)
	_ = a.Proc().Exit(qa, proc.Kill)
	_ = cc.Proc().Exit(qc, proc.Kill)
	waitName(t, "pre", proc.Pid{}, ss...)
	return r
}

// healedCluster starts three nodes on a MemNetwork with a short tick time,
// c's server registering with ResolveNotify.
func healedCluster(t testing.TB) (*testCluster, []*dist.Node, []*Server) {
	c := newMemCluster(t)
	const tick = 400 * time.Millisecond
	var ns []*dist.Node
	var ss []*Server
	for i, name := range []string{"a@localhost", "b@localhost", "c@localhost"} {
		n := c.node(name, tick)
		o := Options{}
		if i == 2 {
			o.Resolve = ResolveNotify
		}
		ns = append(ns, n)
		ss = append(ss, c.server(n, o))
	}
	connect(t, ns[0], ns[1], ns[2])
	waitPeers(t, ss...)
	return c, ns, ss
}

// Two partitions each register the same names; after the heal one winner
// per name, the losers told. The time from the heal is logged, not
// asserted (BenchmarkHealResolve measures it).
func TestPartitionHealResolvesConflicts(t *testing.T) {
	c, ns, ss := healedCluster(t)
	for round := range 2 {
		r := splitRegisterHeal(t, round, c, ns, ss)
		t.Logf("figure: round %d: loser told after the heal: exit %v, message %v", round, r.exitAfter, r.notifyAfter)
	}
	if n := c.Logs.Count("name conflict"); n == 0 {
		t.Errorf("no conflict logged")
	}
}

// A partial partition: a and b cut off from each other, c reaching both.
// A name held on c and unregistered from a while b could not hear it does
// not come back from b's replica after the heal: a remembers the removal
// and tells b to drop it.
func TestUnregisterNotUndoneByAStaleReplica(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(400*time.Millisecond, Options{})
	pc := holder(t, ns[2], false, proc.Pid{})
	if err := ss[2].Register(ctxFor(t), "x", pc); err != nil {
		t.Fatal(err)
	}
	c.Mem.Partition("a@localhost", "b@localhost")
	eventually(t, "a and b to lose each other", func() bool {
		return ss[0].participants() == 1 && ss[1].participants() == 1
	})
	if err := ss[0].Unregister(ctxFor(t), "x"); err != nil {
		t.Fatal(err)
	}
	waitName(t, "x", proc.Pid{}, ss[0], ss[2])
	if got, _ := ss[1].Whereis("x"); got != pc {
		t.Fatalf("b, cut off from a, has x = %v; the test needs its stale copy", got)
	}
	c.Mem.Heal("a@localhost", "b@localhost")
	waitPeers(t, ss...)
	waitName(t, "x", proc.Pid{}, ss...)
	// A new registration of the name is not blocked by the tombstone.
	if err := ss[1].Register(ctxFor(t), "x", pc); err != nil {
		t.Fatal(err)
	}
	waitName(t, "x", pc, ss...)
}
