package placement

import (
	"testing"
	"time"
)

// A partition of a from b and c: once dist notices (a tick), each side
// holds only its own side's records and places there; after the heal and
// a new connection, every node holds all three again. dist does not
// reconnect by itself (see cluster/pg's partition test); placement needs
// only the NodeUp that follows, on which it pushes its record.
func TestPartitionHeal(t *testing.T) {
	c := newMemCluster(t)
	c.Tick = time.Second
	ns, ss := c.threeNodes()
	a, b, cn := ns[0], ns[1], ns[2]
	waitNodes(t, ss, "a@localhost", "b@localhost", "c@localhost")

	c.Mem.Partition(a.Name(), b.Name())
	c.Mem.Partition(a.Name(), cn.Name())
	waitNodes(t, ss[:1], "a@localhost")
	waitNodes(t, ss[1:], "b@localhost", "c@localhost")
	for range 20 {
		if n, _, err := ss[0].Choose(LeastLoaded()); err != nil || n != "a@localhost" {
			t.Fatalf("a alone chose %q, %v", n, err)
		}
		if n, _, err := ss[1].Choose(LeastLoaded()); err != nil || n == "a@localhost" {
			t.Fatalf("b's side chose %q, %v", n, err)
		}
	}

	c.Mem.Heal(a.Name(), b.Name())
	c.Mem.Heal(a.Name(), cn.Name())
	connect(t, a, b, cn)
	waitNodes(t, ss, "a@localhost", "b@localhost", "c@localhost")
}
