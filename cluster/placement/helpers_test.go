package placement

// The cluster set-up shared with the other services' tests is in
// internal/testcluster; what is here is this package's own.

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testcluster"
)

const waitTime = testcluster.WaitTime

var (
	connect    = testcluster.Connect
	attach     = testcluster.Attach
	eventually = testcluster.Eventually
)

// testCluster starts nodes with a port mapper of their own, over a
// MemNetwork or over loopback TCP; its Tick applies to nodes started
// later.
type testCluster struct{ *testcluster.Cluster }

func newMemCluster(t testing.TB) *testCluster { return &testCluster{testcluster.NewMem(t)} }

func newTCPCluster(t testing.TB) *testCluster { return &testCluster{testcluster.NewTCP(t)} }

func (c *testCluster) node(name string) *dist.Node {
	c.T.Helper()
	return c.Node(name)
}

// service starts placement on n with a short interval and a long MaxAge
// (so that a slow -race run never makes a record stale), closed at the
// end of the test.
func (c *testCluster) service(n *dist.Node, sampler Sampler) *Service {
	c.T.Helper()
	s, err := Start(n, Options{Interval: 20 * time.Millisecond, MaxAge: time.Minute, Sampler: sampler, Logf: c.Logs.Logf})
	if err != nil {
		c.T.Fatal(err)
	}
	c.T.Cleanup(func() { s.Close() })
	return s
}

// threeNodes starts a, b and c, meshed, each running placement with the
// sampler of samplers (nil: the default).
func (c *testCluster) threeNodes(samplers ...Sampler) ([]*dist.Node, []*Service) {
	c.T.Helper()
	var ns []*dist.Node
	var ss []*Service
	for i, name := range []string{"a@localhost", "b@localhost", "c@localhost"} {
		n := c.node(name)
		var sm Sampler
		if i < len(samplers) {
			sm = samplers[i]
		}
		ns = append(ns, n)
		ss = append(ss, c.service(n, sm))
	}
	connect(c.T, ns[0], ns[1], ns[2])
	return ns, ss
}

// fixed is a sampler whose record the test sets; Processes counts the
// samples taken, so a test can wait for a newer record.
type fixed struct {
	runnable atomic.Int64
	samples  atomic.Int64
}

func (f *fixed) sample() Load {
	return Load{Runnable: int(f.runnable.Load()), Processes: int(f.samples.Add(1)), CPUs: 1}
}

// nodesOf returns the nodes of s's records.
func nodesOf(s *Service) []string {
	var out []string
	for _, l := range s.Loads() {
		out = append(out, l.Node)
	}
	return out
}

// recordOf returns node's record held by s.
func recordOf(s *Service, node string) (Load, bool) {
	for _, l := range s.Loads() {
		if l.Node == node {
			return l, true
		}
	}
	return Load{}, false
}

// waitNodes waits until every service holds records of exactly want.
func waitNodes(t testing.TB, ss []*Service, want ...string) {
	t.Helper()
	for _, s := range ss {
		eventually(t, fmt.Sprintf("records of %v", want), func() bool {
			return strings.Join(nodesOf(s), ",") == strings.Join(want, ",")
		})
	}
}
