package otp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testport"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// Children on other nodes, through the distribution layer, with three
// nodes in this process. Erlang's supervisors do not move children off a
// dead node; gonode's do (see README, "Supervisors across nodes").

type cluster struct {
	t    testing.TB
	epmd string
}

func newCluster(t testing.TB) *cluster {
	return &cluster{t: t, epmd: testport.Addr(t)}
}

// remoteWorker is registered as "worker" on every node: it tells obs
// [:started, id, pid, node], panics on "crash", and with trap set ignores
// exit signals (as a process that outlives a partition would).
func remoteWorker(ctx context.Context, obs proc.Pid, id string, trap bool) {
	p, _, _ := dist.ProcessFrom(ctx)
	p.TrapExit(trap)
	_ = p.Send(obs, []any{proc.Atom("started"), id, p.Pid()})
	for {
		m, err := p.Receive(ctx)
		if err != nil {
			return
		}
		if m == "crash" {
			panic("boom")
		}
	}
}

func (c *cluster) start(name string) *dist.Node {
	c.t.Helper()
	f := dist.NewFuncs()
	if err := f.Register("worker", remoteWorker); err != nil {
		c.t.Fatal(err)
	}
	n, err := dist.Start(context.Background(), dist.Config{Name: name, Cookie: "c", EPMDAddr: c.epmd, Functions: f,
		Logf: func(string, ...any) {}})
	if err != nil {
		c.t.Fatalf("start %s: %v", name, err)
	}
	c.t.Cleanup(func() { n.Close() })
	return n
}

// threeNodes starts node1, node2 and node3 (named prefix1@localhost ...)
// with node1 connected to the others, and a process on node1 for the
// test to act as.
func threeNodes(t *testing.T, prefix string) (*cluster, *dist.Node, *dist.Node, *dist.Node, *proc.Process) {
	t.Helper()
	c := newCluster(t)
	n1, n2, n3 := c.start(prefix+"1@localhost"), c.start(prefix+"2@localhost"), c.start(prefix+"3@localhost")
	for _, n := range []*dist.Node{n2, n3} {
		if err := n1.Connect(context.Background(), n.Name()); err != nil {
			t.Fatal(err)
		}
	}
	p, err := n1.Proc().Attach(proc.SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c, n1, n2, n3, p
}

// startedOn takes k [:started, id, pid] messages and returns the pids by id.
func startedOn(t *testing.T, p *proc.Process, k int) map[string]proc.Pid {
	t.Helper()
	out := make(map[string]proc.Pid, k)
	for len(out) < k {
		m, err := p.ReceiveMatchTimeout(wait, func(m any) bool {
			l, ok := m.([]any)
			return ok && len(l) == 3 && l[0] == proc.Atom("started")
		})
		if err != nil {
			t.Fatalf("%d of %d children started: %v", len(out), k, err)
		}
		l := m.([]any)
		out[l[1].(string)] = l[2].(proc.Pid)
	}
	return out
}

func nodesOf(pids map[string]proc.Pid) map[string]int {
	out := map[string]int{}
	for _, p := range pids {
		out[p.Node]++
	}
	return out
}

// A supervisor on node1 starts its children on node2, restarts one that
// crashes there, and when node2 goes away restarts every one of them on
// node3, the next node of their list; the lost node counts as one restart
// toward the intensity, and its return starts nothing twice.
func TestFailoverToTheNextNode(t *testing.T) {
	c, n1, n2, n3, p := threeNodes(t, "fo")
	reports := make(chan otp.Event, 100)
	const k = 20
	var specs []otp.ChildSpec
	for i := range k {
		id := fmt.Sprintf("w%d", i)
		specs = append(specs, otp.ChildSpec{ID: id, Nodes: []string{n2.Name(), n3.Name()},
			Start: otp.Named(n1, "worker", p.Pid(), id, false)})
	}
	sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{Cluster: n1, Report: func(e otp.Event) { reports <- e }}, specs...)
	if err != nil {
		t.Fatal(err)
	}
	first := startedOn(t, p, k)
	if got := nodesOf(first); got[n2.Name()] != k {
		t.Fatalf("children on %v, want all %d on %s", got, k, n2.Name())
	}

	_ = p.Send(first["w3"], "crash")
	again := startedOn(t, p, 1)
	if again["w3"].Node != n2.Name() || again["w3"] == first["w3"] {
		t.Fatalf("w3 restarted as %v", again["w3"])
	}
	if e := <-reports; e.Action != otp.ActionRestarted || e.Child != "w3" {
		t.Fatalf("report %v", e)
	}

	n2.Close()
	moved := startedOn(t, p, k)
	if got := nodesOf(moved); got[n3.Name()] != k {
		t.Fatalf("after node2 went down, children on %v, want all %d on %s", got, k, n3.Name())
	}
	for range k {
		if e := <-reports; e.Action != otp.ActionMoved || e.NewPid.Node != n3.Name() || e.Reason != proc.NoConnection {
			t.Errorf("report %v, want a move to node3 after noconnection", e)
		}
	}
	if !n1.Proc().Alive(sup) {
		t.Fatal("losing one node with 20 children stopped the supervisor")
	}

	// node2 comes back: nothing is started there, nothing runs twice.
	n2b := c.start("fo2@localhost")
	if err := n1.Connect(context.Background(), n2b.Name()); err != nil {
		t.Fatal(err)
	}
	cs, err := otp.WhichChildren(p, sup)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range cs {
		if ch.Pid != moved[ch.ID] {
			t.Errorf("child %s is %v, want it where it moved: %v", ch.ID, ch.Pid, moved[ch.ID])
		}
	}
	if got := n2b.Proc().Count(); got != 0 {
		t.Errorf("the new node2 runs %d processes", got)
	}
}

// partition stands between node1's supervisor and one node: while cut,
// the supervisor's Cluster says the node is down and its children cannot
// start there. (A real cut between nodes of one process is not possible
// here: dist connects again at once after Disconnect, as the peers'
// traffic asks it to.)
type partition struct {
	*dist.Node
	node string
	cut  atomic.Bool
}

func (p *partition) Connected(node string) bool {
	return !(p.cut.Load() && node == p.node) && p.Node.Connected(node)
}

func (p *partition) SpawnChild(parent *proc.Process, node, fn string, args []any) (proc.Pid, error) {
	if p.cut.Load() && node == p.node {
		return proc.Pid{}, fmt.Errorf("%s is cut off", node)
	}
	return p.Node.SpawnChild(parent, node, fn, args)
}

// A partition rather than a death: the children on node2 that trap exits
// outlive the lost link; the supervisor starts replacements on node3, and
// when node2 is connected again it kills the ones it lost, so that each
// child runs once.
func TestPartitionHealKillsOrphans(t *testing.T) {
	_, n1, n2, n3, p := threeNodes(t, "pa")
	part := &partition{Node: n1, node: n2.Name()}
	const k = 5
	var specs []otp.ChildSpec
	for i := range k {
		id := fmt.Sprintf("w%d", i)
		specs = append(specs, otp.ChildSpec{ID: id, Nodes: []string{n2.Name(), n3.Name()},
			Start: otp.Named(part, "worker", p.Pid(), id, true)})
	}
	if _, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{Cluster: part, Report: func(otp.Event) {}}, specs...); err != nil {
		t.Fatal(err)
	}
	first := startedOn(t, p, k)
	watcher, err := n2.Proc().Attach(proc.SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	refs := map[proc.Ref]bool{}
	for _, pid := range first {
		refs[watcher.Monitor(pid)] = true
	}

	part.cut.Store(true)
	n1.Disconnect(n2.Name())
	if got := nodesOf(startedOn(t, p, k)); got[n3.Name()] != k {
		t.Fatalf("after the cut, children on %v, want all on node3", got)
	}
	for _, pid := range first {
		if !n2.Proc().Alive(pid) {
			t.Fatalf("%v died at the cut: this test needs it to outlive the partition", pid)
		}
	}

	// The heal: node2 is connected again (it may not have seen the old
	// connection close yet, and refuses a new one from this node until it
	// does: try until it takes it). The supervisor sees it at its next look.
	part.cut.Store(false)
	deadline := time.Now().Add(wait)
	for err := n1.Connect(context.Background(), n2.Name()); err != nil; err = n1.Connect(context.Background(), n2.Name()) {
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition under a deadline
	}
	for len(refs) > 0 {
		m, err := watcher.ReceiveTimeout(wait)
		if err != nil {
			t.Fatalf("%d orphans still run on node2 after the heal: %v", len(refs), err)
		}
		if d, ok := m.(proc.DownMsg); ok && refs[d.Ref] {
			if d.Reason != proc.Killed {
				t.Errorf("orphan %v ended with %v, want killed", d.Pid, d.Reason)
			}
			delete(refs, d.Ref)
		}
	}
}

// Bad input for children of other nodes: a function the node does not
// have, a node that does not exist, a child the supervisor does not hold.
// Each is an error value; the supervisor keeps its other children.
func TestBadRemoteChildren(t *testing.T) {
	c := newCluster(t)
	n1, n2 := c.start("bad1@localhost"), c.start("bad2@localhost")
	p, err := n1.Proc().Attach(proc.SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sup, err := otp.StartSupervisor(p, nil, otp.SupervisorOptions{Cluster: n1, Report: func(otp.Event) {}},
		otp.ChildSpec{ID: "good", Nodes: []string{n2.Name()}, Start: otp.Named(n1, "worker", p.Pid(), "good", false)})
	if err != nil {
		t.Fatal(err)
	}
	good := startedOn(t, p, 1)["good"]

	_, err = otp.StartChild(p, sup, otp.ChildSpec{ID: "undef", Nodes: []string{n2.Name()}, Start: otp.Named(n1, "nope")})
	if !errors.Is(err, dist.ErrUndef) || !strings.Contains(err.Error(), n2.Name()) {
		t.Errorf("a function the node lacks: %v, want undef naming the node", err)
	}
	_, err = otp.StartChild(p, sup, otp.ChildSpec{ID: "ghost", Nodes: []string{"ghost@localhost"}, Start: otp.Named(n1, "worker", p.Pid(), "ghost", false)})
	if !errors.Is(err, dist.ErrNodeDown) || !strings.Contains(err.Error(), "ghost@localhost") {
		t.Errorf("a node that does not exist: %v, want node down naming it", err)
	}
	if err := otp.TerminateChild(p, sup, "nope"); !errors.Is(err, otp.ErrNotFound) {
		t.Errorf("terminate a child it does not have: %v", err)
	}
	cs, err := otp.WhichChildren(p, sup)
	if err != nil || len(cs) != 1 || cs[0].Pid != good {
		t.Fatalf("children %v (%v), want only good as %v", cs, err, good)
	}
}
