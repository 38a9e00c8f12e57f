package global

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// The benchmarks scripts/bench-global.sh runs beside BEAM's
// :global.register_name and :global.whereis_name on three nodes over
// loopback TCP (docs/benchmarks.md, "Global names").

// reportLatencies reports the median and mean of ds in microseconds.
func reportLatencies(b *testing.B, ds []time.Duration, unit string) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, unit+"-p50")
	b.ReportMetric(float64(sum.Nanoseconds())/1e3/float64(len(ds)), unit)
}

// tcpThree starts three meshed nodes over loopback TCP with name servers.
func tcpThree(b *testing.B) ([]*Server, func(n int) []proc.Pid) {
	c := newTCPCluster(b)
	ns, ss := c.threeNodes(0, Options{})
	pids := func(n int) []proc.Pid {
		out := make([]proc.Pid, n)
		for i := range out {
			pid, err := ns[0].Proc().SpawnHandler(func(*proc.Process, any) {}, proc.SpawnOptions{})
			if err != nil {
				b.Fatal(err)
			}
			out[i] = pid
		}
		return out
	}
	return ss, pids
}

// Register on a 3-node cluster: each call returns when all three nodes
// have stored the name (as :global.register_name does). One fresh process
// per name; names are unregistered outside the timer.
func BenchmarkRegister(b *testing.B) {
	ss, pids := tcpThree(b)
	warm := pids(200)
	for i, p := range warm {
		name := fmt.Sprint("w", i)
		if err := ss[0].Register(ctxFor(b), name, p); err != nil {
			b.Fatal(err)
		}
		_ = ss[0].Unregister(ctxFor(b), name)
	}
	ps := pids(b.N)
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if err := ss[0].Register(ctxFor(b), fmt.Sprint("n", i), ps[i]); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	reportLatencies(b, ds, "us/register")
	ds = ds[:0]
	for i := range b.N {
		t0 := time.Now()
		if err := ss[0].Unregister(ctxFor(b), fmt.Sprint("n", i)); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	reportLatencies(b, ds, "us/unregister")
}

// Whereis of a registered name, on a node other than the registering one:
// a read of the local replica.
func BenchmarkWhereis(b *testing.B) {
	ss, pids := tcpThree(b)
	const names = 1000
	ps := pids(names)
	keys := make([]string, names)
	for i := range keys {
		keys[i] = fmt.Sprint("n", i)
		if err := ss[0].Register(ctxFor(b), keys[i], ps[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if _, ok := ss[1].Whereis(keys[i%names]); !ok {
			b.Fatal("not found")
		}
	}
}

// From Heal to both losers told, over a MemNetwork (see
// TestPartitionHealResolvesConflicts); the goal is under 1 s. Each round
// also waits for the partition to be noticed (tick time 400 ms).
func BenchmarkHealResolve(b *testing.B) {
	c, ns, ss := healedCluster(b)
	var exits, notes []time.Duration
	for i := range b.N {
		r := splitRegisterHeal(b, i, c, ns, ss)
		exits, notes = append(exits, r.exitAfter), append(notes, r.notifyAfter)
	}
	b.StopTimer()
	slices.Sort(exits)
	slices.Sort(notes)
	b.ReportMetric(float64(exits[len(exits)/2].Microseconds())/1e3, "ms/exit-p50")
	b.ReportMetric(float64(notes[len(notes)/2].Microseconds())/1e3, "ms/notify-p50")
	b.ReportMetric(float64(slices.Max(append(exits, notes...)).Microseconds())/1e3, "ms/told-max")
}
