package eval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// callCtx is a cancellable context, as every rpc's is: calls take the
// execution path, not the plain reflect call.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

// poolSession is a test session whose pooled interpreters are stopped at
// the end of the test.
func poolSession(t *testing.T, h *host) *Session {
	s := newTestSession(t, h)
	t.Cleanup(s.Close)
	return s
}

// callOne resolves name, calls it once and releases it, as an rpc does.
func callOne(t *testing.T, s *Session, name string, args ...any) any {
	t.Helper()
	out, err := s.Call(callCtx(t), name, args...)
	if err != nil {
		t.Fatalf("%s%v: %v", name, args, err)
	}
	if len(out) != 1 {
		t.Fatalf("%s%v returned %v", name, args, out)
	}
	return out[0]
}

func TestPoolReusesInterpreter(t *testing.T) {
	s := poolSession(t, newHost())
	runSteps(t, s, []step{{src: "func Sq(v int) int { return v * v }"}})
	for i := 1; i <= 5; i++ {
		if got := callOne(t, s, "Sq", i); got != i*i {
			t.Fatalf("Sq(%d) = %v", i, got)
		}
	}
	if n := s.pool.builds.Load(); n != 1 {
		t.Errorf("%d interpreters built for 5 calls in a row, want 1", n)
	}
}

func TestPoolRedefinitionSeenByNextCall(t *testing.T) {
	s := poolSession(t, newHost())
	runSteps(t, s, []step{
		{src: "func Base() int { return 1 }"},
		{src: "func F() int { return Base() * 10 }"},
	})
	if got := callOne(t, s, "F"); got != 10 {
		t.Fatalf("F() = %v, want 10", got)
	}
	runSteps(t, s, []step{{src: "func Base() int { return 2 }"}}) // F's code is unchanged
	if got := callOne(t, s, "F"); got != 20 {
		t.Errorf("after redefining Base, F() = %v, want 20", got)
	}
	if n := s.pool.idleCount(); n != 1 {
		t.Errorf("%d idle interpreters, want 1: the old definition's is dropped", n)
	}
}

// TestPoolCallsAreIsolated: assignments a call makes to package-level
// variables are not seen by the next call, and each call sees the
// session's current values.
func TestPoolCallsAreIsolated(t *testing.T) {
	s := poolSession(t, newHost())
	runSteps(t, s, []step{
		{src: "count := 0"},
		{src: "func Inc() int { count++; return count }"},
	})
	for i := 0; i < 3; i++ {
		if got := callOne(t, s, "Inc"); got != 1 {
			t.Fatalf("call %d: Inc() = %v, want 1", i, got)
		}
	}
	runSteps(t, s, []step{{src: "count = 10"}})
	if got := callOne(t, s, "Inc"); got != 11 {
		t.Errorf("after count = 10, Inc() = %v, want 11", got)
	}
	if n := s.pool.builds.Load(); n != 1 {
		t.Errorf("%d interpreters built, want 1: a new value is assigned, not rebuilt", n)
	}
}

// take resolves name n times without releasing, so that the pool builds n
// interpreters, then releases them all.
func take(t *testing.T, s *Session, name string, n int) {
	t.Helper()
	var fs []*Func
	for i := 0; i < n; i++ {
		f, err := s.Resolve(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	for _, f := range fs {
		f.Release()
		f.Release() // idempotent
	}
}

func TestPoolPanicRetiresOnlyThatInterpreter(t *testing.T) {
	s := poolSession(t, newHost())
	runSteps(t, s, []step{{src: `func F(n int) int { if n < 0 { panic("negative") }; return n }`}})
	take(t, s, "F", 2)
	if n := s.pool.idleCount(); n != 2 {
		t.Fatalf("%d idle, want 2", n)
	}
	_, err := s.Call(callCtx(t), "F", -1)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "negative" {
		t.Fatalf("F(-1): %v, want the panic", err)
	}
	if n := s.pool.idleCount(); n != 1 {
		t.Errorf("%d idle after a panic, want 1", n)
	}
	if got := callOne(t, s, "F", 3); got != 3 {
		t.Errorf("F(3) = %v", got)
	}
	if n := s.pool.builds.Load(); n != 2 {
		t.Errorf("%d built, want 2: the other interpreter serves the next call", n)
	}
}

func TestPoolCancelRetiresOnlyThatInterpreter(t *testing.T) {
	h := newHost()
	s := poolSession(t, h)
	runSteps(t, s, []step{{src: "func Spin(n int) int { for { Tick() }; return n }"}})
	take(t, s, "Spin", 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Call(ctx, "Spin", 1)
		done <- err
	}()
	<-h.tickCh // it runs
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Spin: %v", err)
	}
	if n := s.pool.idleCount(); n != 1 {
		t.Errorf("%d idle after a cancel, want 1", n)
	}
}

// TestPoolConcurrentCalls runs calls at once (go test -race): each
// interpreter serves one call at a time, and the idle ones stay bounded.
func TestPoolConcurrentCalls(t *testing.T) {
	s := poolSession(t, newHost())
	runSteps(t, s, []step{
		{src: "k := 3"},
		{src: "func Mul(v int) int { k = k * 1; return v * k }"},
	})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := 0; i < 10; i++ {
				out, err := s.Call(ctx, "Mul", g*100+i)
				if err == nil && (len(out) != 1 || out[0] != 3*(g*100+i)) {
					err = fmt.Errorf("Mul(%d) = %v", g*100+i, out)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.pool.idleCount(); n > poolMaxPerKey {
		t.Errorf("%d idle, bound %d", n, poolMaxPerKey)
	}
}

// TestPoolSourceReuse: a remote spawn's source text reuses an interpreter;
// its variables start from their initializers each time, and its output
// goes to the writer of each use.
func TestPoolSourceReuse(t *testing.T) {
	s := poolSession(t, newHost())
	runSteps(t, s, []step{{src: "x := 5"}})
	b, err := s.Bundle("func() int { x++; fmt.Println(x); return x }")
	if err != nil {
		t.Fatal(err)
	}
	src, err := s.Source(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		var out bytes.Buffer
		f, err := s.Compile(context.Background(), src, &out)
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.Call(callCtx(t))
		f.Release()
		if err != nil || len(res) != 1 || res[0] != 6 {
			t.Fatalf("use %d: %v %v, want 6", i, res, err)
		}
		if out.String() != "6\n" {
			t.Errorf("use %d printed %q", i, out.String())
		}
	}
	if n := s.pool.builds.Load(); n != 1 {
		t.Errorf("%d built for 3 uses of one source, want 1", n)
	}
}

func TestResetSource(t *testing.T) {
	for _, c := range []struct {
		src, want string
		ok        bool
	}{
		{"var a = int(1)\nvar __gonode_main = func() {}\n", "a = int(1)\n", true},
		{"func f() {}\nvar a, b = 1, \"s\"\nvar c any\n", "a, b = 1, \"s\"\nc = nil\n", true},
		{"var d []int\n", "", false},
		{"func init() {}\n", "", false},
	} {
		got, ok := resetSource(c.src)
		if got != c.want || ok != c.ok {
			t.Errorf("resetSource(%q) = %q, %v; want %q, %v", c.src, got, ok, c.want, c.ok)
		}
	}
}

// TestPoolCancelStopsChannelReceive: a call blocked on an interpreted
// channel is woken by the cancellation, as one in an evaluation is.
func TestPoolCancelStopsChannelReceive(t *testing.T) {
	h := newHost()
	s := poolSession(t, h)
	runSteps(t, s, []step{{src: "func Block() int { ch := make(chan int); Started(); return <-ch }"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Call(ctx, "Block")
		done <- err
	}()
	<-h.started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Block: %v", err)
	}
	runSteps(t, s, []step{{src: "func G() int { return 7 }"}})
	if got := callOne(t, s, "G"); got != 7 {
		t.Errorf("G() = %v", got)
	}
}

// TestPoolOutputGoesToOptionsStdout: an rpc's output goes where the
// session's does, whichever interpreter of the pool runs it.
func TestPoolOutputGoesToOptionsStdout(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	t.Cleanup(s.Close)
	runSteps(t, s, []step{{src: `func Hello(n int) int { fmt.Println("hello", n); return n }`}})
	callOne(t, s, "Hello", 1)
	callOne(t, s, "Hello", 2)
	if got := out.String(); got != "hello 1\nhello 2\n" {
		t.Errorf("output %q", got)
	}
}

// TestInterpClose: Close stops the call server of an interpreter outside
// the pool; a cancellable call fails afterwards.
func TestInterpClose(t *testing.T) {
	s := poolSession(t, newHost())
	runSteps(t, s, []step{{src: "func One() int { return 1 }"}})
	w, err := s.NewWorker()
	if err != nil {
		t.Fatal(err)
	}
	f, err := w.Func(context.Background(), "One")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := f.Call(callCtx(t)); err != nil || out[0] != 1 {
		t.Fatalf("One() = %v, %v", out, err)
	}
	w.Close()
	w.Close() // idempotent
	if _, err := f.Call(callCtx(t)); !errors.Is(err, ErrAbandoned) {
		t.Errorf("after Close: %v, want ErrAbandoned", err)
	}
}
