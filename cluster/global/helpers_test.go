package global

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

// server starts a name server on n, closed at the end of the test.
func (c *testCluster) server(n *dist.Node, opts Options) *Server {
	c.t.Helper()
	if opts.Logf == nil {
		opts.Logf = c.logs.logf
	}
	s, err := Start(n, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { s.Close() })
	return s
}

// threeNodes starts a, b and c, meshed, each with a name server, and
// waits until the servers know each other.
func (c *testCluster) threeNodes(tick time.Duration, opts Options) ([]*dist.Node, []*Server) {
	c.t.Helper()
	var ns []*dist.Node
	var ss []*Server
	for _, name := range []string{"a@localhost", "b@localhost", "c@localhost"} {
		n := c.node(name, tick)
		ns = append(ns, n)
		ss = append(ss, c.server(n, opts))
	}
	connect(c.t, ns[0], ns[1], ns[2])
	waitPeers(c.t, ss...)
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

// waitPeers waits until each server counts every other as a participant.
func waitPeers(t testing.TB, ss ...*Server) {
	t.Helper()
	for _, s := range ss {
		eventually(t, s.node.Name()+" to know its peers", func() bool { return s.participants() == len(ss)-1 })
	}
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	t.Cleanup(cancel)
	return ctx
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

// attach makes a process driven by the test goroutine, to receive with.
func attach(t testing.TB, n *dist.Node) *proc.Process {
	t.Helper()
	p, err := n.Proc().Attach(proc.SpawnOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Exit(proc.Normal) })
	return p
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

func (s *logSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}
