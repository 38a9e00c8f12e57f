// Package testcluster starts small clusters of dist nodes for the tests of
// the cluster services (cluster/global, cluster/pg, cluster/placement): its
// one job is the set-up and waiting that those tests share, so that each
// package's helpers hold only what is its own.
//
// Nodes get a port mapper of their own (a port from testport) and run over
// loopback TCP or over a dist.MemNetwork, where each node's transport is
// named after the node so that a test can partition them.
package testcluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testport"
	"github.com/gonode/gonode/proc"
)

// WaitTime bounds every wait for a condition; no test asserts on how long
// one took.
const WaitTime = 15 * time.Second

// Cluster starts nodes that find each other through one port mapper.
type Cluster struct {
	T    testing.TB
	EPMD string           // the port mapper's address
	Mem  *dist.MemNetwork // nil: loopback TCP
	Logs *LogSink         // every node's log lines
	// Tick is dist's tick time for nodes started later; 0 keeps dist's
	// default.
	Tick time.Duration
}

// NewMem returns a cluster over an in-memory network.
func NewMem(t testing.TB) *Cluster {
	return &Cluster{T: t, EPMD: testport.Addr(t), Mem: dist.NewMemNetwork(), Logs: &LogSink{}}
}

// NewTCP returns a cluster over loopback TCP.
func NewTCP(t testing.TB) *Cluster {
	return &Cluster{T: t, EPMD: testport.Addr(t), Logs: &LogSink{}}
}

// Node starts a node with the cluster's tick time, closed at the end of
// the test.
func (c *Cluster) Node(name string) *dist.Node {
	c.T.Helper()
	return c.NodeTick(name, c.Tick)
}

// NodeTick starts a node with tick time tick (0: dist's default).
func (c *Cluster) NodeTick(name string, tick time.Duration) *dist.Node {
	c.T.Helper()
	cfg := dist.Config{Name: name, Cookie: "secret", EPMDAddr: c.EPMD, Logf: c.Logs.Logf, TickTime: tick}
	if c.Mem != nil {
		cfg.Transport = c.Mem.Transport(name)
	}
	n, err := dist.Start(context.Background(), cfg)
	if err != nil {
		c.T.Fatalf("start %s: %v", name, err)
	}
	c.T.Cleanup(func() { n.Close() })
	return n
}

// Connect connects a to each of others and waits for the full mesh.
func Connect(t testing.TB, a *dist.Node, others ...*dist.Node) {
	t.Helper()
	for _, o := range others {
		if err := a.Connect(Ctx(t), o.Name()); err != nil {
			t.Fatalf("connect %s to %s: %v", a.Name(), o.Name(), err)
		}
	}
	all := append([]*dist.Node{a}, others...)
	Eventually(t, "a full mesh", func() bool {
		for _, n := range all {
			if len(n.Nodes()) < len(all)-1 {
				return false
			}
		}
		return true
	})
}

// Ctx returns a context that ends after WaitTime or with the test.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), WaitTime)
	t.Cleanup(cancel)
	return ctx
}

// Attach makes a process driven by the test goroutine, to send and
// receive with; it exits at the end of the test.
func Attach(t testing.TB, n *dist.Node) *proc.Process {
	t.Helper()
	p, err := n.Proc().Attach(proc.SpawnOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Exit(proc.Normal) })
	return p
}

// Eventually polls cond until it holds, failing the test after WaitTime.
// The services converge by messages that a test cannot wait on directly.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitTime)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling a condition under a deadline
	}
}

// LogSink keeps the log lines of a cluster's nodes and services.
type LogSink struct {
	mu    sync.Mutex
	lines []string // guarded by mu
}

// Logf is a dist.Config.Logf.
func (s *LogSink) Logf(format string, args ...any) {
	s.mu.Lock()
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// Count returns how many lines contain sub.
func (s *LogSink) Count(sub string) int {
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

// First returns the first line that contains sub, or "".
func (s *LogSink) First(sub string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// Text returns every line, one per line.
func (s *LogSink) Text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}
