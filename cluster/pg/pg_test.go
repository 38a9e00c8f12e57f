package pg

import (
	"errors"
	"testing"

	"github.com/gonode/gonode/proc"
)

// Joins and leaves on three nodes are seen by all three; a process joined
// twice is listed twice and leaves one membership at a time.
func TestJoinLeaveVisibleEverywhere(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0)
	a, b := ns[0], ns[1]
	pa, pb := spawnMember(t, a), spawnMember(t, b)

	if err := ss[0].Join("g", pa); err != nil {
		t.Fatal(err)
	}
	if got := ss[0].Members("g"); !sameMembers(got, []proc.Pid{pa}) {
		t.Fatalf("a's replica right after Join: %v", got)
	}
	if err := ss[1].Join("g", pb, pb); err != nil {
		t.Fatal(err)
	}
	if err := ss[1].Join("g", pb); err != nil {
		t.Fatal(err)
	}
	if err := ss[1].Join("h", pb); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", ss, pa, pb, pb, pb)
	waitMembers(t, "h", ss, pb)
	for i, s := range ss {
		if got := s.Groups(); len(got) != 2 || got[0] != "g" || got[1] != "h" {
			t.Errorf("node %d: groups %v", i, got)
		}
	}
	for i, s := range ss {
		if got := s.AppendMembers([]proc.Pid{pa}, "g"); !sameMembers(got, []proc.Pid{pa, pa, pb, pb, pb}) {
			t.Errorf("node %d: AppendMembers after one pid: %v", i, got)
		}
	}
	if got := ss[1].LocalMembers("g"); !sameMembers(got, []proc.Pid{pb, pb, pb}) {
		t.Errorf("b: local members %v", got)
	}
	if got := ss[2].LocalMembers("g"); got != nil {
		t.Errorf("c: local members %v, want none", got)
	}
	if got := ss[2].LocalGroups(); len(got) != 0 {
		t.Errorf("c: local groups %v", got)
	}

	if err := ss[1].Leave("g", pb); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", ss, pa, pb, pb)
	if err := ss[1].Leave("g", pb, pb); err != nil {
		t.Fatal(err)
	}
	if err := ss[0].Leave("g", pa); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", ss)
	waitMembers(t, "h", ss, pb)
	for i, s := range ss {
		if got := s.Groups(); len(got) != 1 || got[0] != "h" {
			t.Errorf("node %d: groups %v after the leaves", i, got)
		}
	}
	if err := ss[1].Leave("g", pb); !errors.Is(err, ErrNotJoined) {
		t.Errorf("leave of a non-member: %v", err)
	}
}

// Only local, live processes join through a scope.
func TestJoinChecks(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0)
	pb := spawnMember(t, ns[1])
	if err := ss[0].Join("g", pb); !errors.Is(err, ErrNotLocal) {
		t.Errorf("join of another node's process: %v", err)
	}
	if err := ss[0].Leave("g", pb); !errors.Is(err, ErrNotLocal) {
		t.Errorf("leave of another node's process: %v", err)
	}
	dead := spawnMember(t, ns[0])
	ns[0].Proc().Exit(dead, proc.Kill)
	eventually(t, "the process to die", func() bool { return !ns[0].Proc().Alive(dead) })
	live := spawnMember(t, ns[0])
	if err := ss[0].Join("g", live, dead); !errors.Is(err, proc.ErrNoProc) {
		t.Errorf("join of a dead process: %v", err)
	}
	if got := ss[0].Members("g"); got != nil {
		t.Errorf("a failed join joined %v", got)
	}
}

// A member that dies leaves every group it was in, on every node, as many
// times as it joined; a node that goes down takes its members with it.
func TestDeathAndNodeDownRemoveMembers(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0)
	pa, pb, pc := spawnMember(t, ns[0]), spawnMember(t, ns[1]), spawnMember(t, ns[2])
	for i, p := range []proc.Pid{pa, pb, pc} {
		if err := ss[i].Join("g", p, p); err != nil {
			t.Fatal(err)
		}
		if err := ss[i].Join("h", p); err != nil {
			t.Fatal(err)
		}
	}
	waitMembers(t, "g", ss, pa, pa, pb, pb, pc, pc)

	me := attach(t, ns[0])
	ref, _, err := ss[0].Monitor("g", me.Pid())
	if err != nil {
		t.Fatal(err)
	}
	ns[1].Proc().Exit(pb, proc.Kill)
	if m, ok := recv(t, me).(LeaveMsg); !ok || m.Ref != ref || !sameMembers(m.Pids, []proc.Pid{pb, pb}) {
		t.Fatalf("a's monitor of g after b's member died: %v", m)
	}
	waitMembers(t, "g", ss, pa, pa, pc, pc)
	waitMembers(t, "h", ss, pa, pc)

	ns[2].Close()
	if m, ok := recv(t, me).(LeaveMsg); !ok || !sameMembers(m.Pids, []proc.Pid{pc, pc}) {
		t.Fatalf("a's monitor of g after c went down: %v", m)
	}
	waitMembers(t, "g", ss[:2], pa, pa)
	waitMembers(t, "h", ss[:2], pa)

	// A scope that closes takes its members out of its peers' replicas;
	// the processes live on.
	ss[0].Close()
	waitMembers(t, "g", ss[1:2])
	if !ns[0].Proc().Alive(pa) {
		t.Error("closing the scope killed its member")
	}
	if err := ss[0].Join("g", pa); !errors.Is(err, ErrClosed) {
		t.Errorf("join on a closed scope: %v", err)
	}
	if got := ss[0].Members("g"); got != nil {
		t.Errorf("a closed scope lists %v", got)
	}
}

// A node that starts later, or whose scope starts later, gets every group
// when it connects, and the others get its members.
func TestLateNodeGetsGroups(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0)
	pa, pb := spawnMember(t, ns[0]), spawnMember(t, ns[1])
	if err := ss[0].Join("g", pa, pa); err != nil {
		t.Fatal(err)
	}
	if err := ss[1].Join("h", pb); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", ss, pa, pa)

	d := c.node("d@localhost", 0)
	sd := c.scope(d)
	pd := spawnMember(t, d)
	if err := sd.Join("g", pd); err != nil {
		t.Fatal(err)
	}
	connect(t, d, ns[0])
	all := append(ss, sd)
	waitMembers(t, "g", all, pa, pa, pd)
	waitMembers(t, "h", all, pb)

	// A scope started on a node connected already finds its peers too.
	e := c.node("e@localhost", 0)
	connect(t, e, ns[0])
	eventually(t, "e in the mesh", func() bool { return len(e.Nodes()) == 4 })
	se := c.scope(e)
	waitMembers(t, "g", []*Scope{se}, pa, pa, pd)
	pe := spawnMember(t, e)
	if err := se.Join("h", pe); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "h", append(all, se), pb, pe)
}

// Scopes are independent: a scope of another name on the same nodes sees
// nothing of this one.
func TestScopesAreSeparate(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0)
	other := make([]*Scope, 3)
	for i, n := range ns {
		s, err := Start(n, "other")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		other[i] = s
	}
	pa := spawnMember(t, ns[0])
	if err := other[0].Join("g", pa); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", other, pa)
	for _, s := range ss {
		if got := s.Members("g"); got != nil {
			t.Errorf("scope test lists %v, joined in scope other", got)
		}
	}
	if _, err := Start(ns[0], "other"); !errors.Is(err, proc.ErrNameTaken) {
		t.Errorf("second scope of one name on a node: %v", err)
	}
}

// The same over loopback TCP: joins seen everywhere, and a node that
// closes takes its members with it.
func TestOverTCP(t *testing.T) {
	c := newTCPCluster(t)
	ns, ss := c.threeNodes(0)
	pa, pc := spawnMember(t, ns[0]), spawnMember(t, ns[2])
	if err := ss[0].Join("g", pa, pa); err != nil {
		t.Fatal(err)
	}
	if err := ss[2].Join("g", pc); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", ss, pa, pa, pc)
	ns[2].Close()
	waitMembers(t, "g", ss[:2], pa, pa)
}
