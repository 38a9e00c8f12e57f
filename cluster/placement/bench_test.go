package placement

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// BenchmarkSkew is placement under skew (scripts/bench-placement.sh runs
// it; the figures are in docs/benchmarks.md). Three nodes, each in an OS
// process of its own on loopback TCP: a (the benchmark's process, which
// places) and b are idle; c runs PLACEMENT_SPIN processes spinning on the
// CPU (default 2 per core) from before the clock starts. For
// PLACEMENT_SECONDS (10) a places PLACEMENT_RATE tasks a second (400) with
// LeastLoaded, each a process spawned on the chosen node that burns about
// 1 ms of CPU (calibrated here, the same rounds on every node). Reported:
// how the tasks split between a and b (tasks-ratio, max/min: the goal is
// within 1.2), their mean scores and CPU as a's records showed them, and
// the share of tasks that went to c (busy-%). BEAM has no built-in
// equivalent to compare with.
func BenchmarkSkew(b *testing.B) {
	secs := envInt("PLACEMENT_SECONDS", 10)
	rate := envInt("PLACEMENT_RATE", 400)
	spin := envInt("PLACEMENT_SPIN", 2*runtime.NumCPU())
	interval := time.Duration(envInt("PLACEMENT_INTERVAL_MS", 250)) * time.Millisecond
	iters := calibrate(time.Millisecond)

	c := newTCPCluster(b)
	a := c.node("plbench_a@localhost") // serves the port mapper
	s, err := Start(a, Options{Interval: interval, Logf: c.Logs.Logf})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := startWorker(a, iters); err != nil {
		b.Fatal(err)
	}
	common := []string{envEPMD + "=" + c.EPMD, envIters + "=" + strconv.Itoa(iters), envEvery + "=" + interval.String()}
	startPeerProc(b, append(common, envPeer+"=plbench_b@localhost")...)
	startPeerProc(b, append(common, envPeer+"=plbench_c@localhost", envSpin+"="+strconv.Itoa(spin))...)
	for _, n := range []string{"plbench_b@localhost", "plbench_c@localhost"} {
		if err := a.Connect(b.Context(), n); err != nil {
			b.Fatal(err)
		}
	}
	eventually(b, "records of b and c on a, c's spinners seen", func() bool {
		l, ok := recordOf(s, "plbench_c@localhost")
		return len(s.Loads()) == 3 && ok && l.Runnable >= spin
	})
	me := attach(b, a)
	nodes := []string{"plbench_a@localhost", "plbench_b@localhost", "plbench_c@localhost"}
	placed := map[string]int{}
	score, cpu := map[string]float64{}, map[string]float64{}
	samples, failed := 0, 0

	b.ResetTimer()
	for range b.N {
		tick := time.NewTicker(time.Second / time.Duration(rate))
		look := time.NewTicker(interval)
		end := time.After(time.Duration(secs) * time.Second)
	run:
		for {
			select {
			case <-tick.C:
				node, _, err := s.Choose(LeastLoaded())
				if err != nil {
					failed++
					continue
				}
				placed[node]++
				_ = me.SendName(proc.Name{Name: workerName, Node: node}, proc.Atom("task"))
			case <-look.C:
				samples++
				for _, l := range s.Loads() {
					score[l.Node] += l.Score()
					cpu[l.Node] += l.CPU
				}
			case <-end:
				break run
			}
		}
		tick.Stop()
		look.Stop()
	}
	b.StopTimer()

	// What the workers got: every task sent arrived (one per placement).
	for _, n := range nodes {
		_ = me.SendName(proc.Name{Name: workerName, Node: n}, []any{proc.Atom("count"), me.Pid()})
	}
	got := map[string][2]int64{}
	for range nodes {
		m, err := me.ReceiveTimeout(waitTime)
		t, ok := m.([]any)
		if err != nil || !ok || len(t) != 4 {
			b.Fatalf("counts: %v %v", m, err)
		}
		name, _ := t[1].(string)
		recv, _ := t[2].(int)
		done, _ := t[3].(int)
		got[name] = [2]int64{int64(recv), int64(done)}
	}
	total := placed[nodes[0]] + placed[nodes[1]] + placed[nodes[2]]
	pa, pb := float64(placed[nodes[0]]), float64(placed[nodes[1]])
	ratio := func(x, y float64) float64 { return max(x, y) / max(min(x, y), 1e-9) }
	b.ReportMetric(float64(total)/float64(secs*b.N), "tasks/s")
	b.ReportMetric(100*float64(placed[nodes[2]])/float64(max(total, 1)), "busy-%")
	b.ReportMetric(ratio(pa, pb), "tasks-ratio")
	b.ReportMetric(ratio(score[nodes[0]], score[nodes[1]]), "score-ratio")
	b.ReportMetric(ratio(cpu[nodes[0]], cpu[nodes[1]]), "cpu-ratio")
	ns := float64(max(samples, 1))
	b.ReportMetric(score[nodes[0]]/ns, "score-a")
	b.ReportMetric(score[nodes[1]]/ns, "score-b")
	b.ReportMetric(score[nodes[2]]/ns, "score-c")
	b.ReportMetric(float64(failed), "failed")
	b.Logf("placed %v, workers (received, done) %v, %d iters a task, %d spinners on c\n%s",
		placed, got, iters, spin, Table(s.Loads()))
}

// calibrate returns the rounds of burn that take about d on this machine
// when it is otherwise idle.
func calibrate(d time.Duration) int {
	const n = 2_000_000
	best := time.Duration(1 << 62)
	for range 5 {
		t0 := time.Now()
		burn(n)
		best = min(best, time.Since(t0))
	}
	return max(1, int(float64(n)*float64(d)/float64(best)))
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkSample is the default sampler's cost on a node with 10,000
// idle processes (the load process pays it once an interval).
func BenchmarkSample(b *testing.B) {
	c := newMemCluster(b)
	n := c.node("sample@localhost")
	for range 10_000 {
		if _, err := n.Proc().Spawn(func(p *proc.Process) { _, _ = p.Receive(p.Context()) }); err != nil {
			b.Fatal(err)
		}
	}
	sample := NewSampler(n.Proc())
	b.ResetTimer()
	for range b.N {
		sample()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10_000, "ns/process")
}
