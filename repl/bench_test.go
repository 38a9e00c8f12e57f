package repl

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testport"
)

// BenchmarkShellRPC is an rpc between two nodes in this process, over
// loopback TCP, made from compiled Go (node1's dist.RPC, with the context
// the shell's rpc helper passes): into a function typed in node2's shell,
// and into strings.ToUpper on the same pair of nodes. us/call-p50 is the
// median call. scripts/bench-shell.sh measures the same between two
// gonode processes, from a shell script, beside BEAM's :erpc.call.
func BenchmarkShellRPC(b *testing.B) {
	node := benchNodes(b)
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
	}{{"strings.ToUpper", "hi", "HI"}, {"Sq", 5, 25}} {
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

// benchNodes gives a benchmark's nodes a port mapper of their own: the
// function it returns starts a quiet node, closed at the end.
func benchNodes(b *testing.B) func(name string) *Runtime {
	b.Setenv("ERL_EPMD_PORT", testport.Port(b))
	return func(name string) *Runtime {
		rt, err := start(context.Background(), Config{NodeName: name, Cookie: "c", Stdin: os.Stdin,
			Stdout: io.Discard, Stderr: io.Discard, TickTime: time.Minute}, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(rt.close)
		return rt
	}
}

// BenchmarkShellFuncCall: what serving one call into a function typed in
// the shell costs the callee, without the network: the process the call
// runs as, the pooled interpreter, the call and its result. The rest of
// an rpc into a shell function is BenchmarkShellRPC's fn=strings.ToUpper.
func BenchmarkShellFuncCall(b *testing.B) {
	rt := benchNodes(b)("benchcall@localhost")
	bg := context.Background()
	if _, err := rt.session.Eval(bg, "func Sq(v int) int { return v * v }"); err != nil {
		b.Fatal(err)
	}
	call, ok := sessionFuncs{rt}.Resolve("Sq")
	if !ok {
		b.Fatal("Sq is not resolved")
	}
	b.ReportAllocs()
	for b.Loop() {
		if v, err := call(bg, []any{5}); err != nil || v != 25 {
			b.Fatalf("Sq(5) = %v, %v", v, err)
		}
	}
}
