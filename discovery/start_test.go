package discovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gonode/gonode/discovery/internal/testnet"
)

// fakeStrategy reports the sets sent on sets, as a strategy polling
// something would; Close records that it was closed.
type fakeStrategy struct {
	sets   chan []string
	closed chan struct{}
}

func newFake() *fakeStrategy {
	return &fakeStrategy{sets: make(chan []string), closed: make(chan struct{})}
}

func (f *fakeStrategy) Run(ctx context.Context, found func([]string)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case s := <-f.sets:
			found(s)
		}
	}
}

func (f *fakeStrategy) Close() error { close(f.closed); return nil }

// dialer is a fake Connect: it records each attempt's time, and fails
// for the names in refuse.
type dialer struct {
	mu       sync.Mutex
	attempts map[string][]time.Time
	refuse   map[string]error
}

func newDialer() *dialer {
	return &dialer{attempts: map[string][]time.Time{}, refuse: map[string]error{}}
}

func (d *dialer) connect(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.attempts[name] = append(d.attempts[name], time.Now())
	return d.refuse[name]
}

func (d *dialer) setRefuse(name string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		delete(d.refuse, name)
	} else {
		d.refuse[name] = err
	}
}

func (d *dialer) times(name string) []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.attempts[name])
}

func TestStartConnectsToNewNodesSkippingSelfAndIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, dl := newFake(), newDialer()
		d := Start(f, Options{
			Connect: dl.connect, Self: "me@h",
			Ignore: func(n string) bool { return strings.HasPrefix(n, "remsh_") },
		})
		f.sets <- []string{"b@h", "me@h", "a@h", "remsh_1@h", "not a name", "a@h"}
		synctest.Wait()
		if got, want := d.Nodes(), []string{"a@h", "b@h"}; !slices.Equal(got, want) {
			t.Errorf("Nodes() = %v, want %v", got, want)
		}
		for _, n := range []string{"a@h", "b@h"} {
			if len(dl.times(n)) != 1 {
				t.Errorf("%s: %d attempts, want 1 at once", n, len(dl.times(n)))
			}
		}
		for _, n := range []string{"me@h", "remsh_1@h"} {
			if len(dl.times(n)) != 0 {
				t.Errorf("%s was connected to", n)
			}
		}
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case <-f.closed:
		default:
			t.Error("Close did not close the strategy")
		}
		if err := d.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

// A node that refuses is tried again with growing waits, never faster
// than MinBackoff and at most every MaxBackoff (plus jitter) once the
// backoff is at its cap; a connected node is only rechecked.
func TestStartBacksOffFromARefusingNode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, dl, lg := newFake(), newDialer(), &testnet.Logs{}
		dl.setRefuse("bad@h", errors.New("bad cookie"))
		d := Start(f, Options{Connect: dl.connect, Logf: lg.Logf, MinBackoff: time.Second, MaxBackoff: 8 * time.Second, Recheck: 5 * time.Second})
		defer d.Close()
		f.sets <- []string{"bad@h", "good@h"}
		time.Sleep(100 * time.Second)
		synctest.Wait()

		bad := dl.times("bad@h")
		t.Logf("in 100 s: refusing node tried %d times, connected node checked %d times", len(bad), len(dl.times("good@h")))
		// 1, 2, 4, 8 then every 8-10 s: about 4 + 90/9 attempts after the first.
		if len(bad) < 10 || len(bad) > 20 {
			t.Errorf("refusing node tried %d times in 100 s, want 10..20", len(bad))
		}
		prev := time.Duration(0)
		for i := 1; i < len(bad); i++ {
			gap := bad[i].Sub(bad[i-1])
			if gap < time.Second || gap > 10*time.Second {
				t.Errorf("gap %d = %v, want within [1s, 10s]", i, gap)
			}
			if i <= 4 && gap < prev {
				t.Errorf("gap %d = %v shrank from %v while backing off", i, gap, prev)
			}
			prev = gap
		}
		if n := lg.Count("cannot connect to bad@h"); n != 1 {
			t.Errorf("the same failure was logged %d times, want once", n)
		}
		if good := dl.times("good@h"); len(good) < 19 || len(good) > 21 {
			t.Errorf("connected node checked %d times in 100 s, want about 20 (every 5 s)", len(good))
		}

		// The node starts accepting: connected within one backoff, and
		// the recovery is logged.
		dl.setRefuse("bad@h", nil)
		time.Sleep(11 * time.Second)
		synctest.Wait()
		if lg.Count("connected to bad@h after") != 1 {
			t.Errorf("recovery not logged: %q", lg.Lines())
		}
	})
}

// A node leaving the set is no longer tried.
func TestStartForgetsNodesThatLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, dl := newFake(), newDialer()
		dl.setRefuse("gone@h", errors.New("connection refused"))
		d := Start(f, Options{Connect: dl.connect})
		defer d.Close()
		f.sets <- []string{"gone@h", "stay@h"}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		f.sets <- []string{"stay@h"}
		synctest.Wait()
		before := len(dl.times("gone@h"))
		time.Sleep(100 * time.Second)
		synctest.Wait()
		if after := len(dl.times("gone@h")); after != before {
			t.Errorf("a node that left was tried %d more times", after-before)
		}
		if got := d.Nodes(); !slices.Equal(got, []string{"stay@h"}) {
			t.Errorf("Nodes() = %v", got)
		}
	})
}

// Slow connection set-ups run side by side, at most maxDialsAtOnce, and
// Close waits for them (they watch its context).
func TestStartBoundsDialsAndCloseWaitsForThem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		running, most := 0, 0
		connect := func(ctx context.Context, name string) error {
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			<-ctx.Done()
			mu.Lock()
			running--
			mu.Unlock()
			return ctx.Err()
		}
		f := newFake()
		d := Start(f, Options{Connect: connect})
		var names []string
		for i := range 3 * maxDialsAtOnce {
			names = append(names, fmt.Sprintf("n%d@h", i))
		}
		f.sets <- names
		synctest.Wait()
		mu.Lock()
		if most != maxDialsAtOnce {
			t.Errorf("%d dials at once, want %d", most, maxDialsAtOnce)
		}
		mu.Unlock()
		d.Close()
		mu.Lock()
		defer mu.Unlock()
		if running != 0 {
			t.Errorf("%d dials still running after Close", running)
		}
	})
}

// A strategy that cannot run reports its error through Close.
func TestStartReportsStrategyFailure(t *testing.T) {
	lg := &testnet.Logs{}
	boom := errors.New("port in use")
	d := Start(strategyFunc(func(ctx context.Context, found func([]string)) error { return boom }), Options{Connect: newDialer().connect, Logf: lg.Logf})
	if err := d.Close(); !errors.Is(err, boom) {
		t.Errorf("Close = %v, want %v", err, boom)
	}
	if lg.Count("port in use") != 1 {
		t.Errorf("failure not logged: %q", lg.Lines())
	}
}

type strategyFunc func(ctx context.Context, found func([]string)) error

func (f strategyFunc) Run(ctx context.Context, found func([]string)) error { return f(ctx, found) }

func TestUnionMergesAndCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := newFake(), newFake()
		var mu sync.Mutex
		var got [][]string
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		u := Union{a, b}
		go func() {
			done <- u.Run(ctx, func(n []string) { mu.Lock(); got = append(got, n); mu.Unlock() })
		}()
		a.sets <- []string{"x@h", "y@h"}
		b.sets <- []string{"y@h", "z@h"}
		b.sets <- []string{"z@h", "y@h"} // the same set: not reported again
		a.sets <- []string{}
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		want := [][]string{{"x@h", "y@h"}, {"x@h", "y@h", "z@h"}, {"y@h", "z@h"}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("reports %v, want %v", got, want)
		}
		u.Close()
		for _, f := range []*fakeStrategy{a, b} {
			select {
			case <-f.closed:
			default:
				t.Error("Union.Close did not close a strategy")
			}
		}
	})
}

func TestPollReportsChangesAndKeepsLastSetOnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		answers := []struct {
			names []string
			err   error
		}{
			{[]string{"a@h"}, nil},
			{[]string{"a@h"}, nil},               // same: no report
			{nil, errors.New("i/o timeout")},     // no answer: keep a@h
			{[]string{"b@h", "a@h", "b@h"}, nil}, // joined
			{[]string{}, nil},                    // everyone left
		}
		i := 0
		list := func(ctx context.Context) ([]string, error) {
			if i >= len(answers) {
				return []string{}, nil
			}
			a := answers[i]
			i++
			return a.names, a.err
		}
		var got [][]string
		lg := &testnet.Logs{}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(time.Duration(len(answers)+1) * time.Second)
			cancel()
		}()
		Poll(ctx, time.Second, list, func(n []string) { got = append(got, n) }, &ErrorLog{Logf: lg.Logf}, "test")
		want := [][]string{{"a@h"}, {"a@h", "b@h"}, {}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("reports %v, want %v", got, want)
		}
		if lg.Count("test: i/o timeout") != 1 || lg.Count("test answers again") != 1 {
			t.Errorf("logs %q", lg.Lines())
		}
	})
}

func TestValidName(t *testing.T) {
	for _, s := range []string{"a@h", "node1@localhost", "a@10.0.0.1", "a@::1", "x@pod-0.svc.ns.svc.cluster.local"} {
		if !ValidName(s) {
			t.Errorf("ValidName(%q) = false", s)
		}
	}
	for _, s := range []string{"", "a", "@h", "a@", "a@b@c", "a b@h", "a@h\n", "<a>@h", strings.Repeat("a", 250) + "@hosts"} {
		if ValidName(s) {
			t.Errorf("ValidName(%q) = true", s)
		}
	}
}
