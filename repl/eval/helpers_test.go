package eval

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/traefik/yaegi/interp"
)

// host is a fake host package, as the node wiring will export one.
type host struct {
	s       *Session
	ticks   atomic.Int64
	tickCh  chan int64    // a tick count, sent when the receiver is ready
	started chan struct{} // a shell snippet says it runs
	spawned chan Bundle
}

func newHost() *host {
	return &host{tickCh: make(chan int64), started: make(chan struct{}, 1), spawned: make(chan Bundle, 16)}
}

func (h *host) exports() interp.Exports {
	return interp.Exports{"example.com/node/node": {
		"Tick": reflect.ValueOf(func() {
			n := h.ticks.Add(1)
			select {
			case h.tickCh <- n:
			default:
			}
		}),
		"Started": reflect.ValueOf(func() { h.started <- struct{}{} }),
		"Spawn":   reflect.ValueOf(func(b Bundle) { h.spawned <- b }),
		"spawn":   reflect.ValueOf(func(b Bundle) { h.spawned <- b }), // lowercase helpers export fine
		"Pid":     reflect.ValueOf((*testPid)(nil)),
		"Self":    reflect.ValueOf(func() testPid { return testPid{Node: "n1@h", ID: 7} }),
	}}
}

// testPid stands for proc.Pid: a host type with a String method.
type testPid struct {
	Node string
	ID   uint32
}

func (p testPid) String() string { return fmt.Sprintf("<%s.%d.0>", p.Node, p.ID) }

func newTestSession(t testing.TB, h *host) *Session {
	t.Helper()
	return newTestSessionOut(t, h, io.Discard)
}

// newTestSessionOut is newTestSession with what snippets print going to out.
func newTestSessionOut(t testing.TB, h *host, out io.Writer) *Session {
	t.Helper()
	s, err := NewSession(Options{
		Exports:   h.exports(),
		Prelude:   `import . "example.com/node"` + "\nfunc double(n int) int { return 2 * n }",
		Stdout:    out,
		Stderr:    io.Discard,
		ShipCalls: map[string]int{"spawn": 0, "Spawn": 0, "node.Spawn": 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	return s
}

type step struct {
	src  string
	want string // printed result, or error substring when err
	err  bool
}

func runSteps(t *testing.T, s *Session, steps []step) {
	t.Helper()
	for _, st := range steps {
		res, err := s.Eval(context.Background(), st.src)
		switch {
		case st.err && (err == nil || !strings.Contains(err.Error(), st.want)):
			t.Errorf("%q: error %v, want one containing %q", st.src, err, st.want)
		case !st.err && err != nil:
			t.Errorf("%q: %v", st.src, err)
		case !st.err && res.String() != st.want:
			t.Errorf("%q printed %q, want %q", st.src, res.String(), st.want)
		}
	}
}

// syncBuffer collects what several interpreters print, under -race.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
