package otp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// Each test names the Elixir/OTP 25 behaviour it mirrors; the facts were
// checked on the real thing with scripts/otp-semantics.exs (summary in
// docs/otp-semantics.md).

// Supervisor (one_for_one): only the crashed child is restarted; its
// siblings keep their pids.
func TestOneForOneRestartsOnlyTheCrashedChild(t *testing.T) {
	n := newNode(t)
	p := observer(t, n)
	sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{}, spec("a", p.Pid()), spec("b", p.Pid()), spec("c", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	pids := expectStarted(t, p, "a", "b", "c")
	_ = p.Send(pids[1], "crash")
	nb := expectStarted(t, p, "b")[0]
	if nb == pids[1] {
		t.Fatal("b kept its pid")
	}
	none[stopped](t, p, sup)
	cs := children(t, p, sup)
	want := []proc.Pid{pids[0], nb, pids[2]}
	for i, c := range cs {
		if c.Pid != want[i] {
			t.Errorf("child %s is %v, want %v", c.ID, c.Pid, want[i])
		}
	}
}

// Supervisor (one_for_all): the others are stopped in reverse start order
// with reason :shutdown, then all are started again in order.
func TestOneForAllRestartsEveryone(t *testing.T) {
	n := newNode(t)
	p := observer(t, n)
	_, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{Strategy: otp.OneForAll},
		spec("a", p.Pid()), spec("b", p.Pid()), spec("c", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	pids := expectStarted(t, p, "a", "b", "c")
	_ = p.Send(pids[1], "crash")
	expectStopped(t, p, "c", "a")
	expectStarted(t, p, "a", "b", "c")
}

// Supervisor (rest_for_one): the children started after the crashed one are
// stopped in reverse order, then it and they restart in order; those
// before it are untouched.
func TestRestForOneRestartsTheRest(t *testing.T) {
	n := newNode(t)
	p := observer(t, n)
	sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{Strategy: otp.RestForOne},
		spec("a", p.Pid()), spec("b", p.Pid()), spec("c", p.Pid()), spec("d", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	pids := expectStarted(t, p, "a", "b", "c", "d")
	_ = p.Send(pids[1], "crash")
	expectStopped(t, p, "d", "c")
	expectStarted(t, p, "b", "c", "d")
	none[stopped](t, p, sup)
	if got := children(t, p, sup)[0].Pid; got != pids[0] {
		t.Errorf("a is %v, want it untouched as %v", got, pids[0])
	}
}

// Restart types: a permanent child is restarted even after a normal exit;
// a transient one only after an abnormal exit (not :normal, :shutdown or
// {:shutdown, _}), and stays in which_children with pid :undefined; a
// temporary one never, and is removed.
func TestRestartTypes(t *testing.T) {
	cases := []struct {
		restart otp.Restart
		exit    string
		again   bool
		kept    bool
	}{
		{otp.Permanent, "exit normal", true, true},
		{otp.Permanent, "crash", true, true},
		{otp.Transient, "exit normal", false, true},
		{otp.Transient, "exit shutdown", false, true},
		{otp.Transient, "exit shutdown detail", false, true},
		{otp.Transient, "crash", true, true},
		{otp.Temporary, "crash", false, false},
		{otp.Temporary, "exit normal", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.restart.String()+"/"+tc.exit, func(t *testing.T) {
			n := newNode(t)
			p := observer(t, n)
			s := spec("w", p.Pid())
			s.Restart = tc.restart
			sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{}, s)
			if err != nil {
				t.Fatal(err)
			}
			pid := expectStarted(t, p, "w")[0]
			if r := downAfter(t, p, pid, tc.exit); r == nil {
				t.Fatal("no exit")
			}
			if tc.again {
				expectStarted(t, p, "w")
			} else {
				none[started](t, p, sup)
			}
			cs := children(t, p, sup)
			if kept := len(cs) == 1; kept != tc.kept {
				t.Fatalf("children %v, want the spec kept: %v", cs, tc.kept)
			}
			if tc.kept && !tc.again && !cs[0].Pid.IsZero() {
				t.Errorf("pid %v, want :undefined", cs[0].Pid)
			}
		})
	}
}

// downAfter sends msg to pid and waits for it to exit.
func downAfter(t *testing.T, p *proc.Process, pid proc.Pid, msg string) any {
	t.Helper()
	ref := p.Monitor(pid)
	_ = p.Send(pid, msg)
	m, err := p.ReceiveMatchTimeout(wait, func(m any) bool { d, ok := m.(proc.DownMsg); return ok && d.Ref == ref })
	if err != nil {
		t.Fatal(err)
	}
	return m.(proc.DownMsg).Reason
}

// Intensity: with the default of 3 restarts in 5 s the supervisor
// survives three crashes in a row and exits with :shutdown on the fourth,
// after stopping its other children; with max_restarts: 0 the first crash
// ends it.
func TestIntensity(t *testing.T) {
	for _, tc := range []struct {
		name    string
		max     int
		survive int
	}{{"default", 0, 3}, {"none", otp.NoRestarts, 0}, {"five", 5, 5}} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t)
			p := observer(t, n)
			p.TrapExit(true) // the supervisor is linked to us and will exit with shutdown
			var events []otp.Event
			reports := make(chan otp.Event, 16)
			sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{MaxRestarts: tc.max, Period: time.Minute,
				Report: func(e otp.Event) { reports <- e }}, spec("other", p.Pid()), spec("w", p.Pid()))
			if err != nil {
				t.Fatal(err)
			}
			ref := p.Monitor(sup)
			pids := expectStarted(t, p, "other", "w")
			pid := pids[1]
			for i := 0; i < tc.survive; i++ {
				_ = p.Send(pid, "crash")
				pid = expectStarted(t, p, "w")[0]
				events = append(events, <-reports)
			}
			_ = p.Send(pid, "crash")
			expectStopped(t, p, "other")
			d := next[proc.DownMsg](t, p)
			if d.Ref != ref || d.Reason != proc.Shutdown {
				t.Fatalf("supervisor ended with %v, want shutdown", d)
			}
			last := <-reports
			if last.Action != otp.ActionGaveUp {
				t.Errorf("last report %v, want %q", last, otp.ActionGaveUp)
			}
			for _, e := range events {
				if e.Action != otp.ActionRestarted || e.Child != "w" {
					t.Errorf("report %v", e)
				}
			}
		})
	}
}

// Restarts older than the period no longer count: the supervisor survives
// any number of crashes spread out in time.
func TestIntensityPeriodSlides(t *testing.T) {
	n := newNode(t)
	p := observer(t, n)
	sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{MaxRestarts: 1, Period: time.Millisecond}, spec("w", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	pid := expectStarted(t, p, "w")[0]
	for i := 0; i < 5; i++ {
		deadline := time.Now().Add(2 * time.Millisecond)
		for time.Now().Before(deadline) { // let the period pass; a wait, not a timed assertion
			_, _ = p.ReceiveMatchTimeout(time.Millisecond, func(any) bool { return false })
		}
		_ = p.Send(pid, "crash")
		pid = expectStarted(t, p, "w")[0]
	}
	if !n.Alive(sup) {
		t.Fatal("supervisor died")
	}
}

// Supervisor.stop (reason :normal, so that the linked caller lives on): children stop in reverse start order with :shutdown; a
// child that ignores :shutdown is killed after its shutdown time (its
// monitor sees :killed); brutal_kill kills at once.
func TestShutdown(t *testing.T) {
	n := newNode(t)
	p := observer(t, n)
	stubborn := spec("stubborn", p.Pid())
	stubborn.Shutdown = 20 * time.Millisecond
	brutal := spec("brutal", p.Pid())
	brutal.Shutdown = otp.BrutalKill
	sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{}, spec("a", p.Pid()), stubborn, brutal, spec("d", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	pids := expectStarted(t, p, "a", "stubborn", "brutal", "d")
	_ = p.Send(pids[1], "ignore shutdown")
	refs := make([]proc.Ref, len(pids))
	for i, pid := range pids {
		refs[i] = p.Monitor(pid)
	}
	if err := otp.StopSupervisor(p, sup, proc.Normal); err != nil {
		t.Fatal(err)
	}
	expectStopped(t, p, "d", "a") // brutal is killed without a message; stubborn ignores it
	wantReason := []any{proc.Shutdown, proc.Killed, proc.Killed, proc.Shutdown}
	for i, ref := range refs {
		d, err := p.ReceiveMatchTimeout(wait, func(m any) bool { d, ok := m.(proc.DownMsg); return ok && d.Ref == ref })
		if err != nil {
			t.Fatal(err)
		}
		if r := d.(proc.DownMsg).Reason; r != wantReason[i] {
			t.Errorf("child %d ended with %v, want %v", i, r, wantReason[i])
		}
	}
	if n.Alive(sup) {
		t.Error("supervisor still alive")
	}
}

// A supervisor started with a parent stops its children and exits when the
// parent does (gen_server/supervisor exit with their parent's reason).
func TestSupervisorFollowsItsParent(t *testing.T) {
	n := newNode(t)
	obs := observer(t, n)
	supc := make(chan proc.Pid, 1)
	parent, err := n.Spawn(func(p *proc.Process) {
		sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{}, spec("a", obs.Pid()), spec("b", obs.Pid()))
		if err != nil {
			panic(err)
		}
		supc <- sup
		_, _ = p.Receive(nil)
		p.Exit(proc.Atom("bye"))
	})
	if err != nil {
		t.Fatal(err)
	}
	sup := <-supc
	expectStarted(t, obs, "a", "b")
	ref := obs.Monitor(sup)
	_ = obs.Send(parent, "go")
	expectStopped(t, obs, "b", "a")
	d := next[proc.DownMsg](t, obs)
	if d.Ref != ref || d.Reason != proc.Atom("bye") {
		t.Fatalf("supervisor ended with %v, want :bye", d)
	}
}

// Supervisor.which_children / count_children / terminate_child /
// restart_child / delete_child / start_child and their errors.
func TestChildOperations(t *testing.T) {
	n := newNode(t)
	p := observer(t, n)
	sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{}, spec("a", p.Pid()), spec("b", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	pids := expectStarted(t, p, "a", "b")

	if got := children(t, p, sup); got[0].String() != `{"a", `+pids[0].String()+`, :worker}` {
		t.Errorf("which_children prints %v", got[0])
	}
	if c, _ := otp.CountChildren(p, sup); c != (otp.ChildCounts{Specs: 2, Active: 2, Workers: 2}) {
		t.Errorf("count_children = %v", c)
	}
	if err := otp.TerminateChild(p, sup, "nope"); !errors.Is(err, otp.ErrNotFound) {
		t.Errorf("terminate unknown: %v, want not_found", err)
	}
	if _, err := otp.RestartChild(p, sup, "a"); !errors.Is(err, otp.ErrRunning) {
		t.Errorf("restart running: %v, want running", err)
	}
	if err := otp.DeleteChild(p, sup, "a"); !errors.Is(err, otp.ErrRunning) {
		t.Errorf("delete running: %v, want running", err)
	}
	if _, err := otp.StartChild(p, sup, spec("a", p.Pid())); !errors.Is(err, otp.ErrAlreadyExists) || !strings.Contains(err.Error(), "already started") {
		t.Errorf("start duplicate: %v, want already started", err)
	}

	if err := otp.TerminateChild(p, sup, "a"); err != nil {
		t.Fatal(err)
	}
	expectStopped(t, p, "a")
	cs := children(t, p, sup)
	if len(cs) != 2 || !cs[0].Pid.IsZero() || cs[0].String() != `{"a", :undefined, :worker}` {
		t.Fatalf("after terminate: %v", cs)
	}
	if c, _ := otp.CountChildren(p, sup); c.Active != 1 || c.Specs != 2 {
		t.Errorf("count after terminate = %v", c)
	}
	if _, err := otp.StartChild(p, sup, spec("a", p.Pid())); !errors.Is(err, otp.ErrAlreadyExists) || !strings.Contains(err.Error(), "already present") {
		t.Errorf("start duplicate of a stopped child: %v, want already present", err)
	}
	npid, err := otp.RestartChild(p, sup, "a")
	if err != nil || npid == pids[0] {
		t.Fatalf("restart: %v %v", npid, err)
	}
	expectStarted(t, p, "a")

	if err := otp.TerminateChild(p, sup, "b"); err != nil {
		t.Fatal(err)
	}
	expectStopped(t, p, "b")
	if err := otp.DeleteChild(p, sup, "b"); err != nil {
		t.Fatal(err)
	}
	if err := otp.DeleteChild(p, sup, "b"); !errors.Is(err, otp.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	cpid, err := otp.StartChild(p, sup, spec("c", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	if got := expectStarted(t, p, "c")[0]; got != cpid {
		t.Errorf("start_child returned %v, child is %v", cpid, got)
	}
	if ids := idsOf(children(t, p, sup)); ids != "a c" {
		t.Errorf("children %s, want a c", ids)
	}
}

func idsOf(cs []otp.ChildInfo) string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, " ")
}

// DynamicSupervisor: start_child adds children, terminate_child takes a
// pid ({:error, :not_found} for another), max_children refuses more, and
// a crashed child is restarted with a new pid.
func TestDynamicSupervisor(t *testing.T) {
	n := newNode(t)
	p := observer(t, n)
	sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{Strategy: otp.Dynamic, MaxChildren: 2})
	if err != nil {
		t.Fatal(err)
	}
	a, err := otp.StartChild(p, sup, otp.ChildSpec{Start: worker("a", p.Pid())})
	if err != nil {
		t.Fatal(err)
	}
	b, err := otp.StartChild(p, sup, otp.ChildSpec{Start: worker("b", p.Pid())})
	if err != nil {
		t.Fatal(err)
	}
	expectStarted(t, p, "a", "b")
	if _, err := otp.StartChild(p, sup, otp.ChildSpec{Start: worker("c", p.Pid())}); !errors.Is(err, otp.ErrMaxChildren) {
		t.Errorf("third child: %v, want max_children", err)
	}
	if cs := children(t, p, sup); len(cs) != 2 || cs[0].String() != "{:undefined, "+a.String()+", :worker}" {
		t.Errorf("which_children = %v", cs)
	}
	_ = p.Send(a, "crash")
	na := expectStarted(t, p, "a")[0]
	if err := otp.TerminateChildPid(p, sup, a); !errors.Is(err, otp.ErrNotFound) {
		t.Errorf("terminate the old pid: %v, want not_found", err)
	}
	if err := otp.TerminateChildPid(p, sup, b); err != nil {
		t.Fatal(err)
	}
	expectStopped(t, p, "b")
	if cs := children(t, p, sup); len(cs) != 1 || cs[0].Pid != na {
		t.Errorf("which_children = %v, want only %v", cs, na)
	}
}

// Nested supervisors: a child supervisor that reaches its own intensity
// exits with :shutdown and its parent restarts it, children and all.
func TestNestedSupervisorIsRestarted(t *testing.T) {
	n := newNode(t)
	p := observer(t, n)
	inner := otp.SupervisorSpec("inner", otp.SupervisorOptions{MaxRestarts: otp.NoRestarts}, spec("w", p.Pid()))
	top, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{}, spec("a", p.Pid()), inner)
	if err != nil {
		t.Fatal(err)
	}
	pids := expectStarted(t, p, "a", "w")
	before := children(t, p, top)[1].Pid
	_ = p.Send(pids[1], "crash")
	expectStarted(t, p, "w")
	cs := children(t, p, top)
	if cs[1].Pid == before || cs[1].Type != otp.SupervisorChild || cs[0].Pid != pids[0] {
		t.Fatalf("children %v: want inner restarted, a untouched", cs)
	}
	tree, err := otp.Tree(p, top)
	if err != nil {
		t.Fatal(err)
	}
	s := tree.String()
	for _, want := range []string{"one_for_one", "├─ a ", "└─ inner ", "supervisor one_for_one", "   └─ w "} {
		if !strings.Contains(s, want) {
			t.Errorf("tree lacks %q:\n%s", want, s)
		}
	}
}

// Supervisor.start_link with a child whose start fails returns an error
// naming the child; the children started before it are stopped; unlike OTP
// 25 (as OTP 26) the caller is not sent the supervisor's exit.
func TestStartFailure(t *testing.T) {
	n := newNode(t)
	p := observer(t, n)
	bad := otp.ChildSpec{ID: "bad", Start: func(*proc.Process, string) (proc.Pid, error) {
		return proc.Pid{}, errors.New("no way")
	}}
	_, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{}, spec("a", p.Pid()), bad, spec("c", p.Pid()))
	if err == nil || !strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), "no way") {
		t.Fatalf("err = %v, want it to name the child and the reason", err)
	}
	expectStarted(t, p, "a")
	expectStopped(t, p, "a")
	if !p.Alive() {
		t.Fatal("the caller died")
	}
}

// Bad specs are refused with an error value before anything starts.
func TestBadSpecs(t *testing.T) {
	n := newNode(t)
	p := observer(t, n)
	for name, specs := range map[string][]otp.ChildSpec{
		"no start":  {{ID: "x"}},
		"bad node":  {{ID: "x", Start: worker("x", p.Pid()), Nodes: []string{"nohost"}}},
		"duplicate": {spec("x", p.Pid()), spec("x", p.Pid())},
	} {
		if _, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{}, specs...); !errors.Is(err, otp.ErrBadSpec) {
			t.Errorf("%s: err = %v, want ErrBadSpec", name, err)
		}
	}
	sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{}, spec("a", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	expectStarted(t, p, "a")
	if _, err := otp.StartChild(p, sup, otp.ChildSpec{ID: "y"}); !errors.Is(err, otp.ErrBadSpec) {
		t.Errorf("start_child without a start function: %v", err)
	}
	_, err = otp.StartChild(p, sup, otp.ChildSpec{ID: "y", Start: otp.Func(func(*proc.Process) {}), Nodes: []string{"other@nowhere"}})
	if err == nil || !strings.Contains(err.Error(), "other@nowhere") {
		t.Errorf("start_child on an unknown node: %v, want an error naming it", err)
	}
	if cs := children(t, p, sup); len(cs) != 1 || !n.Alive(cs[0].Pid) {
		t.Error("the supervisor lost a child")
	}
}
