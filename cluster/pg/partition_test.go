package pg

import (
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// A partition of a from b and c: each side soon lists only its own
// members, and joins on each side go on; after the heal, and once the
// nodes connect again, every replica holds the union.
//
// dist does not reconnect by itself after a heal, as Erlang does not: a
// node reconnects when something sends to the other side, or when asked
// (Connect here; net_adm:ping or libcluster in Erlang). pg needs only the
// NodeUp that follows, on which the scopes sync.
func TestPartitionHealConvergesToUnion(t *testing.T) {
	const tick = time.Second
	c := newMemCluster(t)
	ns, ss := c.threeNodes(tick)
	a, b, cn := ns[0], ns[1], ns[2]
	pa, pb, pc := spawnMember(t, a), spawnMember(t, b), spawnMember(t, cn)
	for i, p := range []proc.Pid{pa, pb, pc} {
		if err := ss[i].Join("g", p); err != nil {
			t.Fatal(err)
		}
	}
	waitMembers(t, "g", ss, pa, pb, pc)
	me := attach(t, a)
	ref, _, err := ss[0].Monitor("g", me.Pid())
	if err != nil {
		t.Fatal(err)
	}

	c.Mem.Partition(a.Name(), b.Name())
	c.Mem.Partition(a.Name(), cn.Name())
	eventually(t, "both sides of the partition to drop the other", func() bool {
		return len(a.Nodes()) == 0 && len(b.Nodes()) == 1 && len(cn.Nodes()) == 1
	})
	waitMembers(t, "g", ss[:1], pa)
	waitMembers(t, "g", ss[1:], pb, pc)
	// a's monitor saw b's and c's members leave, one leave per peer.
	var gone []proc.Pid
	for len(gone) < 2 {
		m, ok := recv(t, me).(LeaveMsg)
		if !ok || m.Ref != ref {
			t.Fatalf("a's monitor during the partition: %v", m)
		}
		gone = append(gone, m.Pids...)
	}
	if !sameMembers(gone, []proc.Pid{pb, pc}) {
		t.Fatalf("a saw %v leave, want %v and %v", gone, pb, pc)
	}

	// Each side changes its groups during the partition.
	pa2, pb2 := spawnMember(t, a), spawnMember(t, b)
	if err := ss[0].Join("g", pa2); err != nil {
		t.Fatal(err)
	}
	if err := ss[0].Join("only-a", pa2); err != nil {
		t.Fatal(err)
	}
	if err := ss[1].Join("g", pb2, pb2); err != nil {
		t.Fatal(err)
	}
	if err := ss[2].Leave("g", pc); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", ss[:1], pa, pa2)
	waitMembers(t, "g", ss[1:], pb, pb2, pb2)

	c.Mem.Heal(a.Name(), b.Name())
	c.Mem.Heal(a.Name(), cn.Name())
	connect(t, a, b, cn) // one Connect would do: dist meshes a with c through b
	waitMembers(t, "g", ss, pa, pa2, pb, pb2, pb2)
	waitMembers(t, "only-a", ss, pa2)
}

// A one-way cut: b stops hearing a and drops it; a learns of it when b
// closes the connection. Both replicas lose the other's members, and
// converge again after the heal.
func TestOneWayPartition(t *testing.T) {
	const tick = time.Second
	c := newMemCluster(t)
	ns, ss := c.threeNodes(tick)
	a, b := ns[0], ns[1]
	pa, pb := spawnMember(t, a), spawnMember(t, b)
	if err := ss[0].Join("g", pa); err != nil {
		t.Fatal(err)
	}
	if err := ss[1].Join("g", pb); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", ss, pa, pb)
	c.Mem.PartitionOneWay(a.Name(), b.Name())
	eventually(t, "a and b to drop each other", func() bool { return len(a.Nodes()) == 1 && len(b.Nodes()) == 1 })
	waitMembers(t, "g", []*Scope{ss[0]}, pa)
	waitMembers(t, "g", []*Scope{ss[1]}, pb)
	c.Mem.HealOneWay(a.Name(), b.Name())
	connect(t, a, b)
	waitMembers(t, "g", ss, pa, pb)
}
