package repl

import (
	"context"
	"io"
	"runtime"
	"testing"
)

// BenchmarkNewInterp measures an interpreter with the standard library, the
// host exports and the prelude loaded: the price of every worker.
func BenchmarkNewInterp(b *testing.B) {
	h := newHost()
	s := newTestSession(b, h)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var keep []*Interp // the first 50, for the live heap per interpreter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in, err := newInterp(s.env, newDeclTable(), io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if len(keep) < 50 {
			keep = append(keep, in)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	b.ReportMetric((float64(after.HeapAlloc)-float64(before.HeapAlloc))/float64(len(keep))/(1<<20), "MiB-live/interp")
}

// BenchmarkSessionCall is an rpc into a session function: a fresh worker
// with the function's declarations, then the call.
func BenchmarkSessionCall(b *testing.B) {
	s := newTestSession(b, newHost())
	ctx := context.Background()
	if _, err := s.Eval(ctx, "func Compute(n int) int { return n * 2 }"); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if _, err := s.Call(ctx, "Compute", int64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFuncCall is a cancellable call into an existing worker: an
// evaluation, whose cost grows with the number of evaluations the
// interpreter has seen (yaegi grows its frame at each one).
func BenchmarkFuncCall(b *testing.B) {
	benchFuncCall(b, func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		b.Cleanup(cancel)
		return ctx
	}())
}

// BenchmarkFuncCallDirect is a call that cannot be cancelled: through reflect.
func BenchmarkFuncCallDirect(b *testing.B) { benchFuncCall(b, context.Background()) }

func benchFuncCall(b *testing.B, ctx context.Context) {
	s := newTestSession(b, newHost())
	if _, err := s.Eval(ctx, "func Compute(n int) int { return n * 2 }"); err != nil {
		b.Fatal(err)
	}
	f, err := s.Resolve(ctx, "Compute")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Call(ctx, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkShellEval is one printed shell expression, snapshot included.
func BenchmarkShellEval(b *testing.B) {
	s := newTestSession(b, newHost())
	ctx := context.Background()
	for _, src := range []string{"x := 1", "y := \"s\"", "func f(n int) int { return n + x }"} {
		if _, err := s.Eval(ctx, src); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Eval(ctx, "f(2)"); err != nil {
			b.Fatal(err)
		}
	}
}
