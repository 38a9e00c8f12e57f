package global

// The cluster set-up shared with the other services' tests is in
// internal/testcluster; what is here is this package's own.

import (
	"fmt"
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

// server starts a name server on n, closed at the end of the test.
func (c *testCluster) server(n *dist.Node, opts Options) *Server {
	c.T.Helper()
	if opts.Logf == nil {
		opts.Logf = c.Logs.Logf
	}
	s, err := Start(n, opts)
	if err != nil {
		c.T.Fatal(err)
	}
	c.T.Cleanup(func() { s.Close() })
	return s
}

// threeNodes starts a, b and c, meshed, each with a name server, and
// waits until the servers know each other.
func (c *testCluster) threeNodes(tick time.Duration, opts Options) ([]*dist.Node, []*Server) {
	c.T.Helper()
	var ns []*dist.Node
	var ss []*Server
	for _, name := range []string{"a@localhost", "b@localhost", "c@localhost"} {
		n := c.node(name, tick)
		ns = append(ns, n)
		ss = append(ss, c.server(n, opts))
	}
	connect(c.T, ns[0], ns[1], ns[2])
	waitPeers(c.T, ss...)
	return ns, ss
}

// waitPeers waits until each server counts every other as a participant.
func waitPeers(t testing.TB, ss ...*Server) {
	t.Helper()
	for _, s := range ss {
		eventually(t, s.node.Name()+" to know its peers", func() bool { return s.participants() == len(ss)-1 })
	}
}

// holder spawns a process on n that lives until killed or its node stops;
// it forwards what it receives to fwd, if fwd is not zero.
func holder(t testing.TB, n *dist.Node, trap bool, fwd proc.Pid) proc.Pid {
	t.Helper()
	pid, err := n.Proc().SpawnOpt(func(p *proc.Process) {
		for {
			m, err := p.Receive(p.Context())
			if err != nil {
				return
			}
			if !fwd.IsZero() {
				_ = p.Send(fwd, []any{p.Pid(), m})
			}
		}
	}, proc.SpawnOptions{TrapExit: trap})
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// waitName waits until every server's replica has name held by want (a
// zero want: not registered).
func waitName(t testing.TB, name string, want proc.Pid, ss ...*Server) {
	t.Helper()
	for _, s := range ss {
		eventually(t, fmt.Sprintf("%s: %q held by %v", s.node.Name(), name, want), func() bool {
			got, ok := s.Whereis(name)
			return got == want && ok == !want.IsZero()
		})
	}
}
