package pg

import (
	"fmt"
	"testing"

	"github.com/gonode/gonode/proc"
)

// event is a notification as a test expects it.
type event struct {
	join  bool
	group string
	pids  []proc.Pid
}

func (e event) String() string {
	if e.join {
		return fmt.Sprintf("join %s %v", e.group, e.pids)
	}
	return fmt.Sprintf("leave %s %v", e.group, e.pids)
}

// expect receives len(want) notifications with ref and checks them in
// order.
func expect(t *testing.T, who string, me *proc.Process, ref proc.Ref, want []event) {
	t.Helper()
	for i, w := range want {
		var got event
		switch m := recv(t, me).(type) {
		case JoinMsg:
			if m.Ref != ref {
				t.Fatalf("%s: notification %d has ref %v, want %v", who, i, m.Ref, ref)
			}
			got = event{true, m.Group, m.Pids}
		case LeaveMsg:
			if m.Ref != ref {
				t.Fatalf("%s: notification %d has ref %v, want %v", who, i, m.Ref, ref)
			}
			got = event{false, m.Group, m.Pids}
		default:
			t.Fatalf("%s: notification %d: %v (%T), want %v", who, i, m, m, w)
		}
		if got.join != w.join || got.group != w.group || !sameMembers(got.pids, w.pids) {
			t.Fatalf("%s: notification %d: %v, want %v", who, i, got, w)
		}
	}
}

// The monitors of a group, on the node of the change and on the others,
// see its joins and leaves in the order they happened there; a scope
// monitor sees every group's; a monitor starts with the members of the
// moment.
func TestMonitorNotificationsInOrder(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0)
	a := ns[0]
	p0 := spawnMember(t, a)
	if err := ss[0].Join("g", p0); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, "g", ss, p0)

	local, remote, scope := attach(t, a), attach(t, ns[1]), attach(t, ns[2])
	lref, members, err := ss[0].Monitor("g", local.Pid())
	if err != nil || !sameMembers(members, []proc.Pid{p0}) {
		t.Fatalf("Monitor on a: %v %v", members, err)
	}
	rref, members, err := ss[1].Monitor("g", remote.Pid())
	if err != nil || !sameMembers(members, []proc.Pid{p0}) {
		t.Fatalf("Monitor on b: %v %v", members, err)
	}
	sref, groups, err := ss[2].MonitorScope(scope.Pid())
	if err != nil || len(groups) != 1 || !sameMembers(groups["g"], []proc.Pid{p0}) {
		t.Fatalf("MonitorScope on c: %v %v", groups, err)
	}
	if _, _, err := ss[0].Monitor("g", remote.Pid()); err == nil {
		t.Error("a scope let a process of another node monitor through it")
	}

	p1, p2 := spawnMember(t, a), spawnMember(t, a)
	steps := []func() error{
		func() error { return ss[0].Join("g", p1) },
		func() error { return ss[0].Join("g", p2) },
		func() error { return ss[0].Leave("g", p1) },
		func() error { return ss[0].Join("h", p2) },
		func() error { return ss[0].Join("g", p1, p1) },
		func() error { return ss[0].Leave("g", p0) },
		func() error { return a.Proc().Exit(p1, proc.Kill) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	g := []event{
		{true, "g", []proc.Pid{p1}},
		{true, "g", []proc.Pid{p2}},
		{false, "g", []proc.Pid{p1}},
		{true, "g", []proc.Pid{p1, p1}},
		{false, "g", []proc.Pid{p0}},
		{false, "g", []proc.Pid{p1, p1}},
	}
	expect(t, "a", local, lref, g)
	expect(t, "b", remote, rref, g)
	all := append(append(append([]event{}, g[:3]...), event{true, "h", []proc.Pid{p2}}), g[3:]...)
	expect(t, "c (scope)", scope, sref, all)

	// Demonitor ends the subscription: a join that follows is not sent
	// (Join returns after the local monitors were sent their message).
	if !ss[0].Demonitor(lref) {
		t.Fatal("Demonitor found no subscription")
	}
	if ss[0].Demonitor(lref) {
		t.Error("Demonitor twice found the subscription twice")
	}
	if err := ss[0].Join("g", p0); err != nil {
		t.Fatal(err)
	}
	if left := local.Flush(); len(left) != 0 {
		t.Errorf("after Demonitor: %v", left)
	}
}

// A subscriber that dies is dropped: the scope monitors it.
func TestMonitorOfDeadSubscriberDropped(t *testing.T) {
	c := newMemCluster(t)
	ns, ss := c.threeNodes(0)
	sub := spawnMember(t, ns[0])
	ref, _, err := ss[0].Monitor("g", sub)
	if err != nil {
		t.Fatal(err)
	}
	ns[0].Proc().Exit(sub, proc.Kill)
	eventually(t, "the subscriber to die", func() bool { return !ns[0].Proc().Alive(sub) })
	// Its DOWN is in the scope's mailbox before the Demonitor request.
	if ss[0].Demonitor(ref) {
		t.Error("the subscription of a dead process was still there")
	}
}
