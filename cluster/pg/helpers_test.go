package pg

// The cluster set-up shared with the other services' tests is in
// internal/testcluster; what is here is this package's own.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testcluster"
	"github.com/gonode/gonode/proc"
)

const waitTime = testcluster.WaitTime

var (
	connect    = testcluster.Connect
	ctxFor     = testcluster.Ctx
	attach     = testcluster.Attach
	eventually = testcluster.Eventually
)

// testCluster starts nodes with a port mapper of their own, over a
// MemNetwork (each node's transport named after the node, for Partition)
// or over loopback TCP.
type testCluster struct{ *testcluster.Cluster }

func newMemCluster(t testing.TB) *testCluster { return &testCluster{testcluster.NewMem(t)} }

func newTCPCluster(t testing.TB) *testCluster { return &testCluster{testcluster.NewTCP(t)} }

// node starts a node; tick 0 keeps dist's default tick time.
func (c *testCluster) node(name string, tick time.Duration) *dist.Node {
	c.T.Helper()
	return c.NodeTick(name, tick)
}

// scope starts the scope "test" on n, closed at the end of the test.
func (c *testCluster) scope(n *dist.Node) *Scope {
	c.T.Helper()
	s, err := StartWith(n, "test", Options{Logf: c.Logs.Logf})
	if err != nil {
		c.T.Fatal(err)
	}
	c.T.Cleanup(func() { s.Close() })
	return s
}

// threeNodes starts a, b and c, meshed, each with the scope "test".
func (c *testCluster) threeNodes(tick time.Duration) ([]*dist.Node, []*Scope) {
	c.T.Helper()
	var ns []*dist.Node
	var ss []*Scope
	for _, name := range []string{"a@localhost", "b@localhost", "c@localhost"} {
		n := c.node(name, tick)
		ns = append(ns, n)
		ss = append(ss, c.scope(n))
	}
	connect(c.T, ns[0], ns[1], ns[2])
	return ns, ss
}

// spawnMember spawns a process on n that lives until killed or its node stops.
func spawnMember(t testing.TB, n *dist.Node) proc.Pid {
	t.Helper()
	pid, err := n.Proc().Spawn(func(p *proc.Process) {
		for {
			if _, err := p.Receive(p.Context()); err != nil {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func recv(t testing.TB, p *proc.Process) any {
	t.Helper()
	m, err := p.ReceiveTimeout(waitTime)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return m
}

// sameMembers compares two lists of members as multisets.
func sameMembers(got, want []proc.Pid) bool {
	if len(got) != len(want) {
		return false
	}
	g, w := slices.Clone(got), slices.Clone(want)
	less := func(a, b proc.Pid) int { return strings.Compare(a.String(), b.String()) }
	slices.SortFunc(g, less)
	slices.SortFunc(w, less)
	return slices.Equal(g, w)
}

// waitMembers waits until every scope's replica lists exactly want in
// group.
func waitMembers(t testing.TB, group string, scopes []*Scope, want ...proc.Pid) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for _, s := range scopes {
		for !sameMembers(s.Members(group), want) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: members of %q: have %v, want %v", s.node.Name(), group, s.Members(group), want)
			}
			time.Sleep(time.Millisecond) // polling a condition under a deadline
		}
	}
}
