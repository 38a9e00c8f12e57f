package placement

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testport"
	"github.com/gonode/gonode/proc"
)

// waitTime bounds every wait for a condition; no test asserts on how long
// one took.
const waitTime = 15 * time.Second

// testCluster starts nodes with a port mapper of their own, over a
// MemNetwork or, with mn nil, over loopback TCP.
type testCluster struct {
	t    testing.TB
	epmd string
	mn   *dist.MemNetwork
	logs *logSink
	tick time.Duration // dist's tick time for nodes started later; 0 is dist's default
}

func newMemCluster(t testing.TB) *testCluster {
	return &testCluster{t: t, epmd: testport.Addr(t), mn: dist.NewMemNetwork(), logs: &logSink{}}
}

func newTCPCluster(t testing.TB) *testCluster {
	return &testCluster{t: t, epmd: testport.Addr(t), logs: &logSink{}}
}

func (c *testCluster) node(name string) *dist.Node {
	c.t.Helper()
	cfg := dist.Config{Name: name, Cookie: "secret", EPMDAddr: c.epmd, Logf: c.logs.logf, TickTime: c.tick}
	if c.mn != nil {
		cfg.Transport = c.mn.Transport(name)
	}
	n, err := dist.Start(context.Background(), cfg)
	if err != nil {
		c.t.Fatalf("start %s: %v", name, err)
	}
	c.t.Cleanup(func() { n.Close() })
	return n
}

// service starts placement on n with a short interval and a long MaxAge
// (so that a slow -race run never makes a record stale), closed at the
// end of the test.
func (c *testCluster) service(n *dist.Node, sampler Sampler) *Service {
	c.t.Helper()
	s, err := Start(n, Options{Interval: 20 * time.Millisecond, MaxAge: time.Minute, Sampler: sampler, Logf: c.logs.logf})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { s.Close() })
	return s
}

// threeNodes starts a, b and c, meshed, each running placement with the
// sampler of samplers (nil: the default).
func (c *testCluster) threeNodes(samplers ...Sampler) ([]*dist.Node, []*Service) {
	c.t.Helper()
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
	connect(c.t, ns[0], ns[1], ns[2])
	return ns, ss
}

// connect connects a to each of others and waits for the full mesh.
func connect(t testing.TB, a *dist.Node, others ...*dist.Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	for _, o := range others {
		if err := a.Connect(ctx, o.Name()); err != nil {
			t.Fatalf("connect %s to %s: %v", a.Name(), o.Name(), err)
		}
	}
	all := append([]*dist.Node{a}, others...)
	eventually(t, "a full mesh", func() bool {
		for _, n := range all {
			if len(n.Nodes()) < len(all)-1 {
				return false
			}
		}
		return true
	})
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling a condition under a deadline
	}
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

// attach makes a process driven by the test goroutine, to send from.
func attach(t testing.TB, n *dist.Node) *proc.Process {
	t.Helper()
	p, err := n.Proc().Attach(proc.SpawnOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type logSink struct {
	mu    sync.Mutex
	lines []string // guarded by mu
}

func (s *logSink) logf(format string, args ...any) {
	s.mu.Lock()
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *logSink) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.lines {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}
