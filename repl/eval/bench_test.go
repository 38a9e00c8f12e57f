package eval

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

// BenchmarkSessionCall is what an rpc into a session function does on the
// node that runs it, without the network: resolve the function (from the
// pool after the first call), call it with a cancellable context, release
// it. fn=strings.ToUpper is the same for a host function, the reference.
func BenchmarkSessionCall(b *testing.B) {
	s := newTestSession(b, newHost())
	b.Cleanup(s.Close)
	if _, err := s.Eval(context.Background(), "func Compute(n int) int { return n * 2 }"); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		fn  string
		arg any
	}{{"strings.ToUpper", "hi"}, {"Compute", int64(3)}} {
		b.Run("fn="+c.fn, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := 0; i < b.N; i++ {
				if _, err := s.Call(ctx, c.fn, c.arg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.pool.builds.Load()), "builds")
		})
	}
}

// BenchmarkFib25 is the CPU-bound case: fib(25) interpreted, called as an
// rpc calls it (shell), and compiled (go).
func BenchmarkFib25(b *testing.B) {
	b.Run("shell", func(b *testing.B) {
		s := newTestSession(b, newHost())
		if _, err := s.Eval(context.Background(), "func Fib(n int) int { if n < 2 { return n }; return Fib(n-1) + Fib(n-2) }"); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for i := 0; i < b.N; i++ {
			if out, err := s.Call(ctx, "Fib", 25); err != nil || out[0] != 75025 {
				b.Fatal(out, err)
			}
		}
	})
	b.Run("go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if compiledFib(25) != 75025 {
				b.Fatal("fib")
			}
		}
	})
}

// BenchmarkSum1M is the loop case: the sum of 1..1,000,000 in a for
// loop, interpreted (shell) and compiled (go).
func BenchmarkSum1M(b *testing.B) {
	const want = 500000500000
	b.Run("shell", func(b *testing.B) {
		s := newTestSession(b, newHost())
		if _, err := s.Eval(context.Background(), "func Sum(n int) int { s := 0; for i := 1; i <= n; i++ { s += i }; return s }"); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for i := 0; i < b.N; i++ {
			if out, err := s.Call(ctx, "Sum", 1000000); err != nil || out[0] != want {
				b.Fatal(out, err)
			}
		}
	})
	b.Run("go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if compiledSum(1000000) != want {
				b.Fatal("sum")
			}
		}
	})
}

//go:noinline
func compiledSum(n int) int {
	s := 0
	for i := 1; i <= n; i++ {
		s += i
	}
	return s
}

func compiledFib(n int) int {
	if n < 2 {
		return n
	}
	return compiledFib(n-1) + compiledFib(n-2)
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
