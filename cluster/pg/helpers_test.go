package pg

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
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
// MemNetwork (each node's transport named after the node, for Partition)
// or, with mn nil, over loopback TCP.
type testCluster struct {
	t    testing.TB
	epmd string
	mn   *dist.MemNetwork
	logs *logSink
}

func newMemCluster(t testing.TB) *testCluster {
	return &testCluster{t: t, epmd: testport.Addr(t), mn: dist.NewMemNetwork(), logs: &logSink{}}
}

func newTCPCluster(t testing.TB) *testCluster {
	return &testCluster{t: t, epmd: testport.Addr(t), logs: &logSink{}}
}

// node starts a node; tick 0 keeps dist's default tick time.
func (c *testCluster) node(name string, tick time.Duration) *dist.Node {
	c.t.Helper()
	cfg := dist.Config{Name: name, Cookie: "secret", EPMDAddr: c.epmd, Logf: c.logs.logf, TickTime: tick}
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

// scope starts the scope "test" on n, closed at the end of the test.
func (c *testCluster) scope(n *dist.Node) *Scope {
	c.t.Helper()
	s, err := StartWith(n, "test", Options{Logf: c.logs.logf})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { s.Close() })
	return s
}

// threeNodes starts a, b and c, meshed, each with the scope "test".
func (c *testCluster) threeNodes(tick time.Duration) ([]*dist.Node, []*Scope) {
	c.t.Helper()
	var ns []*dist.Node
	var ss []*Scope
	for _, name := range []string{"a@localhost", "b@localhost", "c@localhost"} {
		n := c.node(name, tick)
		ns = append(ns, n)
		ss = append(ss, c.scope(n))
	}
	connect(c.t, ns[0], ns[1], ns[2])
	return ns, ss
}

// connect connects a to each of others and waits for the full mesh.
func connect(t testing.TB, a *dist.Node, others ...*dist.Node) {
	t.Helper()
	for _, o := range others {
		if err := a.Connect(ctxFor(t), o.Name()); err != nil {
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

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	t.Cleanup(cancel)
	return ctx
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

// attach makes a process driven by the test goroutine, to receive with.
func attach(t testing.TB, n *dist.Node) *proc.Process {
	t.Helper()
	p, err := n.Proc().Attach(proc.SpawnOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func recv(t testing.TB, p *proc.Process) any {
	t.Helper()
	m, err := p.ReceiveTimeout(waitTime)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return m
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
