package eval

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A process would get a copy of a captured WaitGroup or Mutex and wait on
// or lock the copy: refused, saying what to write. A pointer is shared.
func TestShipRefusesSyncValues(t *testing.T) {
	ctx := context.Background()
	h := newHost()
	s := newTestSession(t, h)
	for _, tt := range []struct{ decl, use, want string }{
		{`var wg sync.WaitGroup`, `spawn(func() { wg.Done() })`, "wg := &sync.WaitGroup{}"},
		{`var mu sync.Mutex`, `spawn(func() { mu.Lock() })`, "mu := &sync.Mutex{}"},
		{`var n atomic.Int64`, `spawn(func() { n.Add(1) })`, "n := &atomic.Int64{}"},
		{`var locks [2]sync.Mutex`, `spawn(func() { locks[0].Lock() })`, "a value holding a sync.Mutex"},
	} {
		evalAll(t, s, tt.decl)
		_, err := s.Eval(ctx, tt.use)
		if !errors.Is(err, ErrNotShippable) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.use, err, tt.want)
		}
	}
	select {
	case b := <-h.spawned:
		t.Fatalf("a refused function was shipped: %+v", b)
	default:
	}
	evalAll(t, s, `wg := &sync.WaitGroup{}`, `wg.Add(1)`, `spawn(func() { wg.Done() })`)
	b := <-h.spawned
	f, err := s.Load(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	if _, err := f.Call(ctx); err != nil {
		t.Fatal(err)
	}
	// Wait returns: the process called Done on the shell's WaitGroup.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.Eval(wctx, `wg.Wait()`); err != nil {
		t.Fatalf("wg.Wait(): %v", err)
	}
}
