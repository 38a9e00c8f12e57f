package otp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// Benchmarks of supervisors and tasks, each the counterpart of a figure of
// scripts/bench-otp-beam.exs (its row id in brackets); scripts/bench-otp.sh
// runs both sides and prints them side by side.

// benchUp is what a benchmark child sends when its Init runs, as BEAM's
// BO.Child sends {:up, i, self(), monotonic_time} from init/1.
type benchUp struct {
	id  int
	pid proc.Pid
	at  time.Time
}

// benchChild is a server child (GenServer-shaped, as BEAM's BO.Child): its
// Init tells obs that it runs, and a "crash" message makes it panic (a
// raise in handle_info).
func benchChild(obs proc.Pid, id int) otp.ChildSpec {
	s := otp.Server{
		Init: func(p *proc.Process, arg any) (any, error) {
			_ = p.Send(obs, benchUp{id, p.Pid(), time.Now()})
			return arg, nil
		},
		HandleInfo: func(p *proc.Process, m any, state any) (any, error) {
			if m == "crash" {
				panic("crash")
			}
			return state, nil
		},
	}
	return otp.ChildSpec{ID: strconv.Itoa(id), Start: otp.ServerStarter(s, nil, otp.ServerOptions{})}
}

// benchNode is a local node whose supervisors report to report (nil: to
// nothing).
func benchNode(b *testing.B, report func(otp.Event)) (*proc.Node, *proc.Process) {
	b.Helper()
	n, err := proc.NewNode(fmt.Sprintf("bench%d@localhost", nodeSeq.Add(1)), 1)
	if err != nil {
		b.Fatal(err)
	}
	if report == nil {
		report = func(otp.Event) {}
	}
	otp.SetReporter(n, report)
	obs, err := n.Attach(proc.SpawnOptions{Label: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		obs.Exit(proc.Normal)
		otp.SetReporter(n, nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			b.Errorf("node stop: %v", err)
		}
	})
	return n, obs
}

// benchOpts allow any number of restarts, in BEAM's period (max_seconds: 1).
var benchOpts = otp.SupervisorOptions{MaxRestarts: 1_000_000, Period: time.Second}

func recvUp(b *testing.B, p *proc.Process) benchUp {
	m, err := p.ReceiveTimeout(time.Minute)
	if err != nil {
		b.Fatalf("no child came up: %v", err)
	}
	u, ok := m.(benchUp)
	if !ok {
		b.Fatalf("unexpected message %#v", m)
	}
	return u
}

// quantile of sorted samples.
func quantile(s []time.Duration, q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// BenchmarkRestartLatency: a one_for_one supervisor with one server child;
// each op crashes the child (a "crash" message that makes it panic) and
// waits for its replacement, timed from the send to the replacement's Init.
// Reported: mean, median and 99th percentile per restart. [r1, r1l]
//
// report=none reports to nothing (BEAM: logger off); report=log formats
// each restart as the default reporter does, to io.Discard (BEAM: crash
// reports on, console to /dev/null).
func BenchmarkRestartLatency(b *testing.B) {
	quiet := log.New(io.Discard, "", log.LstdFlags)
	for _, bc := range []struct {
		name   string
		report func(otp.Event)
	}{
		{"report=none", nil},
		{"report=log", func(e otp.Event) { quiet.Printf("[info] %v", e) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			_, obs := benchNode(b, bc.report)
			if _, err := otp.StartSupervisor(obs, nil, benchOpts, benchChild(obs.Pid(), 0)); err != nil {
				b.Fatal(err)
			}
			pid := recvUp(b, obs).pid
			for range 100 { // warm up, as BEAM's r1 does
				_ = obs.Send(pid, "crash")
				pid = recvUp(b, obs).pid
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				_ = obs.Send(pid, "crash")
				u := recvUp(b, obs)
				lat = append(lat, u.at.Sub(t0))
				pid = u.pid
			}
			b.StopTimer()
			slices.Sort(lat)
			var sum time.Duration
			for _, d := range lat {
				sum += d
			}
			b.ReportMetric(float64(sum.Nanoseconds())/float64(b.N), "ns/restart")
			b.ReportMetric(float64(quantile(lat, 0.5).Nanoseconds()), "ns/restart-p50")
			b.ReportMetric(float64(quantile(lat, 0.99).Nanoseconds()), "ns/restart-p99")
		})
	}
}

const manyChildren = 10_000

// startMany starts a one_for_one supervisor with manyChildren server
// children and returns it and their pids, by id, once every Init ran.
func startMany(b *testing.B, obs *proc.Process) (proc.Pid, []proc.Pid) {
	b.Helper()
	specs := make([]otp.ChildSpec, manyChildren)
	for i := range specs {
		specs[i] = benchChild(obs.Pid(), i)
	}
	sup, err := otp.StartSupervisor(obs, nil, benchOpts, specs...)
	if err != nil {
		b.Fatal(err)
	}
	pids := make([]proc.Pid, manyChildren)
	for range manyChildren {
		u := recvUp(b, obs)
		pids[u.id] = u.pid
	}
	return sup, pids
}

// BenchmarkSupervisorStart10k: start_link of a one_for_one supervisor with
// 10,000 server children, until every child's Init ran; children/s. [r2]
func BenchmarkSupervisorStart10k(b *testing.B) {
	_, obs := benchNode(b, nil)
	var total time.Duration
	for range b.N {
		t0 := time.Now()
		sup, _ := startMany(b, obs)
		total += time.Since(t0)
		b.StopTimer()
		if err := otp.StopSupervisor(obs, sup, proc.Normal); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*manyChildren)/total.Seconds(), "children/s")
}

// BenchmarkRestartsPerSecond: one_for_one with 10,000 server children; one
// op is a pass over all of them. one-at-a-time crashes each in turn and
// waits for its replacement before the next [r3]; all-at-once crashes all
// 10,000 and waits until all are replaced [r4]. restarts/s.
func BenchmarkRestartsPerSecond(b *testing.B) {
	b.Run("one-at-a-time", func(b *testing.B) {
		_, obs := benchNode(b, nil)
		_, pids := startMany(b, obs)
		b.ResetTimer()
		for range b.N {
			for i, pid := range pids {
				_ = obs.Send(pid, "crash")
				u := recvUp(b, obs)
				if u.id != i {
					b.Fatalf("child %d came up, want %d", u.id, i)
				}
				pids[i] = u.pid
			}
		}
		b.ReportMetric(float64(b.N*manyChildren)/b.Elapsed().Seconds(), "restarts/s")
	})
	b.Run("all-at-once", func(b *testing.B) {
		_, obs := benchNode(b, nil)
		_, pids := startMany(b, obs)
		b.ResetTimer()
		for range b.N {
			for _, pid := range pids {
				_ = obs.Send(pid, "crash")
			}
			for range manyChildren {
				u := recvUp(b, obs)
				pids[u.id] = u.pid
			}
		}
		b.ReportMetric(float64(b.N*manyChildren)/b.Elapsed().Seconds(), "restarts/s")
	})
}

// BenchmarkFailoverKill9: a supervisor on node1 (this process) with 1,000
// children on node2, another OS process, that fail over to node3; each op
// starts a fresh node2, starts the supervisor, kills node2 with SIGKILL and
// waits until all 1,000 children run on node3. Reported (medians, from just
// before kill(2)): nodedown (a MonitorNodes subscriber is told) [f0],
// detect (the supervisor's first report of a child lost with noconnection,
// made once that child runs on node3) [f1, which is BEAM's first restart
// call], all (the 1,000th replacement's start message received on node1)
// [f3], and failover = all - detect, the time beyond detection (goal
// under 1 s) [1,000 / f4]. Run it with a count: -benchtime 5x.
func BenchmarkFailoverKill9(b *testing.B) {
	const k = 1000
	c := newPeerCluster(b)
	p3 := c.startPeer(fmt.Sprintf("node3_%d@localhost", os.Getpid()))
	f := newFailover(c, k, p3.Name)
	var down, detect, all, beyond []time.Duration
	for i := range b.N {
		b.StopTimer()
		p2 := c.startPeer(fmt.Sprintf("node2_%d_%d@localhost", i, os.Getpid()))
		f.start(p2.Name)
		b.StartTimer()
		ft := f.kill(p2)
		b.StopTimer()
		down, detect, all, beyond = append(down, ft.nodedown), append(detect, ft.detect), append(all, ft.all), append(beyond, ft.beyond())
		f.stop()
		p2.wait(peerWait)
		b.StartTimer()
	}
	ms := func(s []time.Duration) float64 {
		slices.Sort(s)
		n := len(s)
		m := s[n/2]
		if n%2 == 0 {
			m = (s[n/2-1] + s[n/2]) / 2
		}
		return float64(m.Nanoseconds()) / 1e6
	}
	b.ReportMetric(ms(down), "ms/nodedown")
	b.ReportMetric(ms(detect), "ms/detect")
	b.ReportMetric(ms(all), "ms/all")
	b.ReportMetric(ms(beyond), "ms/failover")
}

const streamItems = 10_000

func streamInput() []any {
	items := make([]any, streamItems)
	for i := range items {
		items[i] = i + 1 // an int, as the codec decodes it
	}
	return items
}

// checkSquares checks that the results are x*x in the order of the items.
func checkSquares(b *testing.B, items []any, res []otp.StreamResult) {
	if len(res) != len(items) {
		b.Fatalf("%d results for %d items", len(res), len(items))
	}
	for i, r := range res {
		x := items[i].(int)
		if r.Err != nil || r.Item != items[i] || r.Value != x*x {
			b.Fatalf("item %d: %v -> %v, %v; want %d", i, r.Item, r.Value, r.Err, x*x)
		}
	}
}

// concurrencies of the stream benchmarks: one per scheduler (BEAM's
// default max_concurrency, System.schedulers_online), and 64.
var streamConc = []struct {
	name string
	n    int
}{{"ncpu", runtime.GOMAXPROCS(0)}, {"64", 64}}

// BenchmarkStreamLocal: TaskStream of 10,000 items x*x on this node,
// ordered, each item a task process; items/s. conc=ncpu is BEAM's default
// [s1], conc=64 [s1c].
func BenchmarkStreamLocal(b *testing.B) {
	for _, sc := range streamConc {
		conc := sc.n
		b.Run("conc="+sc.name, func(b *testing.B) {
			_, obs := benchNode(b, nil)
			items := streamInput()
			sq := func(_ context.Context, item any) (any, error) { x := item.(int); return x * x, nil }
			b.ResetTimer()
			for range b.N {
				res := otp.TaskStream(obs, items, sq, otp.StreamOptions{MaxConcurrency: conc})
				b.StopTimer()
				checkSquares(b, items, res)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*streamItems)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkStreamOverNodes: TaskStream of 10,000 items x*x over 3 nodes,
// node1 (this process) and two peers in other OS processes: item i calls
// "square" by name on node i%3 (an rpc, to node1's own function table for
// a third of them), ordered; items/s. BEAM runs one async_stream_nolink
// per node's Task.Supervisor with max_concurrency per node, so
// perNode=ncpu [s3] and perNode=64 [s3c] allow 3x that many items at once
// here.
func BenchmarkStreamOverNodes(b *testing.B) {
	c := newPeerCluster(b)
	p2 := c.startPeer(fmt.Sprintf("node2_%d@localhost", os.Getpid()))
	p3 := c.startPeer(fmt.Sprintf("node3_%d@localhost", os.Getpid()))
	obs, err := c.n1.Proc().Attach(proc.SpawnOptions{Label: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { obs.Exit(proc.Normal) })
	nodes := []string{c.n1.Name(), p2.Name, p3.Name}
	items := streamInput()
	for _, sc := range streamConc {
		perNode := sc.n
		b.Run("perNode="+sc.name, func(b *testing.B) {
			o := otp.StreamOptions{MaxConcurrency: perNode * len(nodes), Timeout: time.Minute,
				Nodes: nodes, Caller: c.n1, Fn: "square"}
			b.ResetTimer()
			for range b.N {
				res := otp.TaskStream(obs, items, nil, o)
				b.StopTimer()
				checkSquares(b, items, res)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*streamItems)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
