package proc

import (
	"testing"
)

func TestProcTablePages(t *testing.T) {
	var tab procTable
	n := &Node{name: "t@h", creation: 1}
	// Three leaf pages' worth of IDs from the second leaf on, so the first
	// page (which holds the never-used ID 0) stays and the others go.
	first := uint32(tableLeafSize)
	const count = 3 * tableLeafSize
	ps := make([]*Process, count)
	for i := range ps {
		ps[i] = &Process{node: n, pid: Pid{Node: n.name, ID: first + uint32(i), Creation: 1}}
		tab.store(ps[i])
	}
	for _, p := range ps {
		if got := tab.load(p.pid.ID); got != p {
			t.Fatalf("load(%d) = %p, want %p", p.pid.ID, got, p)
		}
	}
	seen := 0
	prev := uint32(0)
	tab.each(func(p *Process) bool {
		if seen > 0 && p.pid.ID <= prev {
			t.Fatalf("each out of order: %d after %d", p.pid.ID, prev)
		}
		prev = p.pid.ID
		seen++
		return true
	})
	if seen != count {
		t.Fatalf("each saw %d, want %d", seen, count)
	}
	// Deleting all but the last leaf's IDs drops those leaves.
	for _, p := range ps[:2*tableLeafSize] {
		tab.delete(p)
	}
	mid := tab.top[0].Load()
	for l := 1; l <= 2; l++ {
		if mid.leaves[l].Load() != nil {
			t.Fatalf("leaf %d kept after all its IDs were deleted", l)
		}
	}
	if mid.leaves[3].Load() == nil || tab.load(ps[2*tableLeafSize].pid.ID) != ps[2*tableLeafSize] {
		t.Fatal("the leaf still in use was dropped")
	}
	if tab.load(ps[0].pid.ID) != nil {
		t.Fatal("a deleted process is still found")
	}
	// Deleting a process that is no longer in its slot leaves the slot alone.
	q := ps[2*tableLeafSize]
	other := &Process{node: n, pid: q.pid}
	tab.delete(other)
	if tab.load(q.pid.ID) != q {
		t.Fatal("delete of another process cleared the slot")
	}
}

// A process's first local monitor lives in the Process struct, the others
// in a map: both kinds must be listed, dropped and told.
func TestWatcherSlotAndMap(t *testing.T) {
	n := newNode(t)
	a, b := attach(t, n), attach(t, n)
	target, err := n.SpawnOpt(blockForever, SpawnOptions{Name: "target"})
	if err != nil {
		t.Fatal(err)
	}
	r1 := a.Monitor(target)                   // goes in the slot
	r2 := b.MonitorName(Name{Name: "target"}) // goes in the map
	r3 := a.Monitor(target)                   // map too
	info, _ := n.Info(target)
	if len(info.MonitoredBy) != 3 {
		t.Fatalf("monitored by %v, want 3 entries", info.MonitoredBy)
	}
	if !a.Demonitor(r1, false) {
		t.Fatal("demonitor of the slot's monitor returned false")
	}
	r4 := b.Monitor(target) // the slot is free again
	if !b.Demonitor(r4, true) {
		t.Fatal("demonitor of the reused slot returned false")
	}
	info, _ = n.Info(target)
	if len(info.MonitoredBy) != 2 {
		t.Fatalf("after demonitors, monitored by %v, want 2 entries", info.MonitoredBy)
	}
	_ = n.Exit(target, "bye")
	if d := recvDown(t, a); d.Ref != r3 || d.Pid != target || d.Reason != "bye" {
		t.Fatalf("a got %v, want the DOWN of %v", d, r3)
	}
	if d := recvDown(t, b); d.Ref != r2 || d.Name.Name != "target" || d.Reason != "bye" {
		t.Fatalf("b got %v, want the DOWN of %v by name", d, r2)
	}
	if m, err := a.ReceiveTimeout(0); err == nil {
		t.Fatalf("a got %v after its last DOWN", m)
	}
	if m, err := b.ReceiveTimeout(0); err == nil {
		t.Fatalf("b got %v after its last DOWN", m)
	}
}
