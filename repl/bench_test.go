package repl

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testport"
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

// BenchmarkShellRPC is an rpc between two nodes in this process, over
// loopback TCP, made from compiled Go (node1's dist.RPC, with the context
// the shell's rpc helper passes): into a function typed in node2's shell,
// and into strings.ToUpper on the same pair of nodes. us/call-p50 is the
// median call. scripts/bench-shell.sh measures the same between two
// gonode processes, from a shell script, beside BEAM's :erpc.call.
func BenchmarkShellRPC(b *testing.B) {
	port := testport.Port(b)
	b.Setenv("ERL_EPMD_PORT", port)
	node := func(name string) *Runtime {
		rt, err := start(context.Background(), Config{NodeName: name, Cookie: "c", Stdin: os.Stdin,
			Stdout: io.Discard, Stderr: io.Discard, TickTime: time.Minute}, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(rt.close)
		return rt
	}
	n1, n2 := node("bench1@localhost"), node("bench2@localhost")
	bg := context.Background()
	if _, err := n2.session.Eval(bg, "func Sq(v int) int { return v * v }"); err != nil {
		b.Fatal(err)
	}
	if err := n1.dist.Connect(bg, "bench2@localhost"); err != nil {
		b.Fatal(err)
	}
	// As the shell's rpc helper calls: with a context that can be
	// cancelled, carrying the shell's group leader.
	ctx, cancel := context.WithCancel(dist.WithGroupLeader(bg, n1.groupLeader))
	defer cancel()
	for _, c := range []struct {
		fn        string
		arg, want any
	}{{"strings.ToUpper", "hi", "HI"}, {"Sq", 5, int64(25)}} {
		b.Run("fn="+c.fn, func(b *testing.B) {
			call := func() {
				if v, err := n1.dist.RPC(ctx, "bench2@localhost", c.fn, c.arg); err != nil || fmt.Sprint(v) != fmt.Sprint(c.want) {
					b.Fatalf("rpc %s: %v %v", c.fn, v, err)
				}
			}
			for range 200 {
				call()
			}
			samples := make([]time.Duration, b.N)
			b.ResetTimer()
			for i := range b.N {
				t := time.Now()
				call()
				samples[i] = time.Since(t)
			}
			b.StopTimer()
			slices.Sort(samples)
			b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds())/1e3, "us/call-p50")
		})
	}
}
