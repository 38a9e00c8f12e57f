package placement

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// A node made loaded through its sampler is never chosen by LeastLoaded
// while both others are fresh: every pair drawn that holds it holds a
// less loaded node too. The other two share the rest.
func TestLeastLoadedAvoidsLoaded(t *testing.T) {
	c := newMemCluster(t)
	var busy fixed
	busy.runnable.Store(50)
	_, ss := c.threeNodes(new(fixed).sample, new(fixed).sample, busy.sample)
	waitNodes(t, ss, "a@localhost", "b@localhost", "c@localhost")
	eventually(t, "c's load on a", func() bool {
		l, _ := recordOf(ss[0], "c@localhost")
		return l.Runnable == 50
	})
	got := map[string]int{}
	for range 300 {
		node, why, err := ss[0].Choose(LeastLoaded())
		if err != nil {
			t.Fatal(err)
		}
		if len(why.Candidates) != 2 || why.Candidates[0].Node == why.Candidates[1].Node {
			t.Fatalf("not two distinct candidates: %v", why)
		}
		got[node]++
	}
	if got["c@localhost"] != 0 || got["a@localhost"] == 0 || got["b@localhost"] == 0 {
		t.Errorf("choices %v: c is loaded", got)
	}
	why, _ := ss[0].Explain(LeastLoaded())
	t.Logf("%v\n%s", got, why)
}

// serviceWith is a Service with no process, holding the given records,
// for the choice alone.
func serviceWith(scores map[string]int) *Service {
	s := &Service{o: Options{MaxAge: time.Hour, Rand: rand.New(rand.NewPCG(1, 2))}, records: map[string]*entry{}}
	for n, r := range scores {
		s.records[n] = &entry{load: Load{Node: n, Runnable: r, CPUs: 1}, received: time.Now()}
	}
	return s
}

// The power of two choices: the lower score of the two drawn wins; equal
// scores go to the node fewer tasks were sent to since its record, so an
// idle cluster is filled evenly rather than at random.
func TestPowerOfTwo(t *testing.T) {
	s := serviceWith(map[string]int{"x": 0, "y": 0, "z": 3, "w": 9})
	got := map[string]int{}
	for range 4000 {
		n, why, err := s.Choose(LeastLoaded())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range why.Candidates {
			if c.Score < s.records[n].load.Score() {
				t.Fatalf("chose %s over the less loaded %s: %v", n, c.Node, why)
			}
		}
		got[n]++
	}
	if got["w"] != 0 {
		t.Errorf("the most loaded node was chosen: %v", got)
	}
	// x and y: equal scores, so each x-y draw goes to the one with fewer
	// tasks so far, which keeps them level (the draws against z and w
	// move them apart by a few between two x-y draws).
	if d := got["x"] - got["y"]; d < -10 || d > 10 {
		t.Errorf("x and y, idle, got %d and %d", got["x"], got["y"])
	}
	if got["z"] == 0 || got["z"] > got["x"] {
		t.Errorf("z, less loaded than w only, got %d (x %d)", got["z"], got["x"])
	}
}

// Rendezvous hashing: the same node for a key every time, keys spread
// over the nodes, and a node that leaves moves only its own keys.
func TestHashStableAndMoves(t *testing.T) {
	three := []string{"a@h", "b@h", "c@h"}
	before := map[string]string{}
	count := map[string]int{}
	for i := range 3000 {
		k := fmt.Sprint("key-", i)
		n, _ := rendezvous(k, three)
		if again, _ := rendezvous(k, []string{"c@h", "a@h", "b@h"}); again != n {
			t.Fatalf("%s: %s, then %s in another order", k, n, again)
		}
		before[k] = n
		count[n]++
	}
	for _, n := range three {
		if count[n] < 800 {
			t.Errorf("uneven spread: %v", count)
		}
	}
	for k, was := range before {
		now, _ := rendezvous(k, three[:2])
		if was != "c@h" && now != was {
			t.Errorf("%s moved from %s to %s when c left", k, was, now)
		}
	}
}

// The same through a Service, as a node leaves the cluster.
func TestHashOverService(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes()
	waitNodes(t, ss, "a@localhost", "b@localhost", "c@localhost")
	before := map[string]string{}
	for i := range 300 {
		k := fmt.Sprint("key-", i)
		n, why, err := ss[0].Choose(Hash(k))
		if err != nil || len(why.Candidates) != 3 {
			t.Fatalf("Hash: %q %v %v", n, why, err)
		}
		if n2, _, _ := ss[1].Choose(Hash(k)); n2 != n {
			t.Fatalf("%s: a says %s, b says %s", k, n, n2)
		}
		before[k] = n
	}
	ns[2].Close()
	waitNodes(t, ss[:2], "a@localhost", "b@localhost")
	moved := 0
	for k, was := range before {
		now, _, err := ss[0].Choose(Hash(k))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case was == "c@localhost":
			moved++
		case now != was:
			t.Errorf("%s moved from %s to %s", k, was, now)
		}
	}
	if moved == 0 {
		t.Error("no key was on c")
	}
}

func TestStrings(t *testing.T) {
	l := Load{Node: "a@h", Runnable: 3, Processes: 40, Mailboxes: []int{12, 3}, CPU: 1.25, CPUs: 2, Memory: 30 << 20, Age: 120 * time.Millisecond}
	row := l.String()
	for _, want := range []string{"a@h", "2.13", "[12 3]", "1.25/2", "30.0", "120ms"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	if tab := Table([]Load{l, l}); strings.Count(tab, "\n") != 2 || !strings.HasPrefix(tab, LoadHeader) {
		t.Errorf("table:\n%s", tab)
	}
	for st, want := range map[*Strategy]string{
		ptr(LeastLoaded()): "leastLoaded()", ptr(Local()): "local()",
		ptr(Hash("k")): `hash("k")`, ptr(Among("a", "b")): `among("a", "b")`,
	} {
		if st.String() != want {
			t.Errorf("%q, want %q", st.String(), want)
		}
	}
	t.Logf("\n%s", Table([]Load{l}))
}

func ptr[T any](v T) *T { return &v }

// A record older than MaxAge (by when it arrived) is not a candidate for
// LeastLoaded or Among; Hash still counts its node, which is connected.
// Explain does not count a placement.
func TestStaleRecords(t *testing.T) {
	s := serviceWith(map[string]int{"fresh": 5, "old": 0})
	s.records["old"].received = time.Now().Add(-2 * time.Hour)
	for range 50 {
		if n, _, err := s.Choose(LeastLoaded()); err != nil || n != "fresh" {
			t.Fatalf("LeastLoaded: %q, %v", n, err)
		}
	}
	if _, _, err := s.Choose(Among("old")); !errors.Is(err, ErrNoLiveNode) {
		t.Errorf("Among a stale node: %v", err)
	}
	if _, why, _ := s.Choose(Hash("k")); why.Live != 2 {
		t.Errorf("Hash over %d nodes, want 2", why.Live)
	}
	s.records["fresh"].received = time.Now().Add(-2 * time.Hour)
	if _, _, err := s.Choose(LeastLoaded()); !errors.Is(err, ErrNoLiveNode) {
		t.Errorf("LeastLoaded with every record stale: %v", err)
	}
	s = serviceWith(map[string]int{"x": 0, "y": 0})
	for range 10 {
		if _, err := s.Explain(LeastLoaded()); err != nil {
			t.Fatal(err)
		}
	}
	if s.records["x"].placed+s.records["y"].placed != 0 {
		t.Error("Explain counted placements")
	}
}
