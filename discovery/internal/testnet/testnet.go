// Package testnet gives the discovery tests what they share: a port
// mapper serving on loopback, and a recorder of what a strategy reports
// that tests wait on.
package testnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/epmd"
)

// PortMapper is a port mapper serving on a loopback port for one test.
type PortMapper struct {
	Addr string // host:port
	t    *testing.T
	srv  *epmd.Server
	errc chan error
	once sync.Once
}

// StartPortMapper serves a port mapper at addr, a loopback host:port
// (port 0: a free one); the test's cleanup stops it.
func StartPortMapper(t *testing.T, addr string) *PortMapper {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port mapper at %s: %v", addr, err)
	}
	pm := &PortMapper{Addr: ln.Addr().String(), t: t, srv: epmd.NewServer(t.Logf), errc: make(chan error, 1)}
	go func() { pm.errc <- pm.srv.Serve(ln) }()
	t.Cleanup(pm.Stop)
	return pm
}

// Register registers name (the part before '@') with a made-up port until
// the returned function is called or the test ends.
func (pm *PortMapper) Register(name string) (unregister func()) {
	pm.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := epmd.Register(ctx, pm.Addr, name, 50000, false)
	if err != nil {
		pm.t.Fatalf("registering %s: %v", name, err)
	}
	var once sync.Once
	unregister = func() { once.Do(func() { r.Close() }) }
	pm.t.Cleanup(unregister)
	return unregister
}

// Stop stops the port mapper (a host going down). Idempotent.
func (pm *PortMapper) Stop() {
	pm.once.Do(func() {
		pm.srv.Close()
		if err := <-pm.errc; !errors.Is(err, epmd.ErrServerClosed) {
			pm.t.Errorf("port mapper: Serve returned %v", err)
		}
	})
}

// Recorder records the sets a strategy reports.
type Recorder struct {
	mu   sync.Mutex
	sets [][]string // guarded by mu
	wake chan struct{}
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{wake: make(chan struct{}, 1)} }

// Found is the callback to give the strategy.
func (r *Recorder) Found(nodes []string) {
	r.mu.Lock()
	r.sets = append(r.sets, slices.Clone(nodes))
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Last returns the last set reported (nil before any).
func (r *Recorder) Last() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sets) == 0 {
		return nil
	}
	return r.sets[len(r.sets)-1]
}

// Reports returns how many sets were reported.
func (r *Recorder) Reports() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sets)
}

// WaitFor waits until the last set reported is want (in any order),
// failing the test after within. It returns how long that took.
func (r *Recorder) WaitFor(t *testing.T, within time.Duration, want ...string) time.Duration {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	start := time.Now()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		got := slices.Sorted(slices.Values(r.Last()))
		if r.Reports() > 0 && slices.Equal(got, want) {
			return time.Since(start)
		}
		select {
		case <-r.wake:
		case <-deadline.C:
			t.Fatalf("after %v: the strategy reports [%s], want [%s]", within, strings.Join(got, " "), strings.Join(want, " "))
		}
	}
}

// Run runs a strategy's Run in a goroutine until the test ends, and
// fails the test if it returns an error.
func Run(t *testing.T, run func(ctx context.Context, found func([]string)) error, found func([]string)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := run(ctx, found); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// Logs collects the log lines a strategy or Start writes (its Logf), for
// tests that look for one.
type Logs struct {
	mu    sync.Mutex
	lines []string
}

// Logf records one line; it is safe from any goroutine.
func (l *Logs) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// Count returns how many lines recorded so far contain substr.
func (l *Logs) Count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

// Lines returns a copy of the lines recorded so far.
func (l *Logs) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}
