package dist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testport"

	"github.com/gonode/gonode/proc"
)

const waitTime = 15 * time.Second

// cluster gives a test its own port-mapper port, so tests run in parallel
// and never meet a real epmd.
type cluster struct {
	t    testing.TB
	epmd string
	logs *logSink
}

func newCluster(t testing.TB) *cluster {
	t.Helper()
	return &cluster{t: t, epmd: testport.Addr(t), logs: &logSink{}}
}

type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) logf(format string, args ...any) {
	s.mu.Lock()
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *logSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

func (c *cluster) start(name string, mods ...func(*Config)) *Node {
	c.t.Helper()
	n, err := c.tryStart(name, mods...)
	if err != nil {
		c.t.Fatalf("start %s: %v", name, err)
	}
	c.t.Cleanup(func() { n.Close() })
	return n
}

func (c *cluster) tryStart(name string, mods ...func(*Config)) (*Node, error) {
	cfg := Config{Name: name, Cookie: "secret", EPMDAddr: c.epmd, Logf: c.logs.logf, Functions: testFuncs()}
	for _, m := range mods {
		m(&cfg)
	}
	return Start(context.Background(), cfg)
}

func testFuncs() *Funcs {
	f := NewFuncs()
	must(f.Register("square", func(v int) int { return v * v }))
	must(f.Register("fail", func() error { return errors.New("it failed") }))
	must(f.Register("boom", func() int { panic("kaboom") }))
	must(f.Register("slow", func(ctx context.Context, d time.Duration) string {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
		return "done"
	}))
	must(f.Register("node", func(ctx context.Context) string { return "called" }))
	must(f.Register("big", func(n int) string { return strings.Repeat("x", n) }))
	must(f.Register("groupLeader", func(ctx context.Context) any {
		if gl, ok := GroupLeader(ctx); ok {
			return gl
		}
		return nil
	}))
	return f
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func attach(t testing.TB, n *Node) *proc.Process {
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
		time.Sleep(2 * time.Millisecond) // polling a condition under a deadline
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), waitTime)
	t.Cleanup(cancel)
	return c
}
