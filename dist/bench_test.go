package dist

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// Benchmarks between this process and a peer node in another OS process
// over loopback, shaped like BEAM's reference figures
// (../shared/bench/beam/bench.exs, remote and fail): scripts/bench-dist.sh
// runs both and docs/benchmarks.md compares them.
//
// The node of this process starts first and so serves the embedded port
// mapper; the peers register with it.

// benchPeer starts a local node and a peer process, connected (over
// mutual TLS inside benchOverTLS, see bench_tls_test.go).
func benchPeer(b *testing.B) (*Node, *peerProc, *proc.Process) {
	b.Helper()
	c := newCluster(b)
	mods, opts := benchTLSSetup(b, "bench@localhost", "benchpeer@localhost")
	a := c.start("bench@localhost", mods...)
	p := startPeer(b, c.epmd, "benchpeer@localhost", opts)
	if err := a.Connect(ctx(b), p.Name); err != nil {
		b.Fatal(err)
	}
	return a, p, attach(b, a)
}

// BenchmarkRemotePingPong: a round trip between a process here and the
// peer's echo process: []any{self, i} there, i back. ns/op is one round
// trip. BEAM: send {:ping, self(), i} / receive {:pong, i} (d1).
func BenchmarkRemotePingPong(b *testing.B) {
	a, p, me := benchPeer(b)
	echo := whereis(b, a, p.Name, "echo")
	round := func(i int) {
		if err := me.Send(echo, []any{me.Pid(), i}); err != nil {
			b.Fatal(err)
		}
		m, err := me.Receive(nil)
		if err != nil || m != int(i) {
			b.Fatalf("round trip %d: %v %v", i, m, err)
		}
	}
	for i := range 1000 {
		round(i)
	}
	samples := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		t := time.Now()
		round(i)
		samples[i] = time.Since(t)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "us/rt")
	b.ReportMetric(medianMicros(samples), "us/rt-p50")
}

// medianMicros is the median of samples in microseconds (BEAM's figures
// are medians of per-operation samples).
func medianMicros(samples []time.Duration) float64 {
	slices.Sort(samples)
	return float64(samples[len(samples)/2].Nanoseconds()) / 1e3
}

// BenchmarkRemoteStream: senders here stream []any{:msg, i} to counters
// spawned on the peer, one counter per sender, all over the one
// connection; the clock stops when every counter has acknowledged its
// last message. ns/op is per message. BEAM: e1, e4.
func BenchmarkRemoteStream(b *testing.B) {
	for _, pairs := range []int{1, 4} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			a, p, me := benchPeer(b)
			run := func(per int) time.Duration {
				counters := make([]proc.Pid, pairs)
				for i := range counters {
					pid, _, err := a.SpawnRemote(ctx(b), me, p.Name, "counter", []any{per, me.Pid()}, SpawnOptions{})
					if err != nil {
						b.Fatal(err)
					}
					counters[i] = pid
				}
				senders := make([]proc.Pid, pairs)
				for i, to := range counters {
					pid, err := a.Proc().Spawn(func(p *proc.Process) {
						if _, err := p.Receive(nil); err != nil {
							return
						}
						for i := 1; i <= per; i++ {
							_ = p.Send(to, []any{atomMsg, i})
						}
					})
					if err != nil {
						b.Fatal(err)
					}
					senders[i] = pid
				}
				start := time.Now()
				for _, s := range senders {
					_ = me.Send(s, "go")
				}
				for range pairs {
					m, err := me.ReceiveTimeout(time.Minute)
					if err != nil {
						b.Fatalf("waiting for the counters: %v", err)
					}
					r := m.([]any)
					if r[0] != atomCounted || r[3] != "" {
						b.Fatalf("counter: %v", r)
					}
				}
				return time.Since(start)
			}
			run(1000) // warm up
			per := max(b.N/pairs, 1)
			d := run(per)
			msgs := per * pairs
			b.ReportMetric(float64(d.Nanoseconds())/float64(msgs), "ns/op")
			b.ReportMetric(float64(msgs)/d.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkRPCLatency: one rpc at a time to a compiled Go function in the
// peer's Funcs (node_name, returning the node's name, as BEAM's
// erpc:call(peer, erlang, node, []) does). BEAM: f-erpc.
func BenchmarkRPCLatency(b *testing.B) {
	a, p, _ := benchPeer(b)
	bg := context.Background()
	call := func() {
		if v, err := a.RPC(bg, p.Name, "node_name"); err != nil || v != p.Name {
			b.Fatalf("rpc: %v %v", v, err)
		}
	}
	for range 500 {
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
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "us/call")
	b.ReportMetric(medianMicros(samples), "us/call-p50")
}

// BenchmarkRPCThroughput8: 8 concurrent callers of the same function.
// ns/op is per call (the whole run's time over the calls made). BEAM:
// f-erpc-8.
func BenchmarkRPCThroughput8(b *testing.B) {
	const callers = 8
	a, p, _ := benchPeer(b)
	bg := context.Background()
	if _, err := a.RPC(bg, p.Name, "node_name"); err != nil {
		b.Fatal(err)
	}
	per := max(b.N/callers, 1)
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	b.ResetTimer()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				if _, err := a.RPC(bg, p.Name, "node_name"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	d := b.Elapsed()
	b.ReportMetric(float64(d.Nanoseconds())/float64(per*callers), "ns/op")
	b.ReportMetric(float64(per*callers)/d.Seconds(), "calls/s")
}

// BenchmarkConnect: Connect to a node it has never met, in a fresh peer
// process each time: port mapper lookup, TCP connect and handshake. Only
// Connect is timed. BEAM: h2, which looks the node up in the real epmd:
// mapper=embedded uses the port mapper this process serves, mapper=epmd
// the real epmd (skipped when it is not installed). Run it with a fixed
// count (-benchtime=30x): each iteration starts and kills a process.
func BenchmarkConnect(b *testing.B) {
	b.Run("mapper=embedded", func(b *testing.B) { benchConnect(b, false) })
	b.Run("mapper=epmd", func(b *testing.B) { benchConnect(b, true) })
}

func benchConnect(b *testing.B, realEpmd bool) {
	c := newCluster(b)
	if realEpmd {
		path, err := exec.LookPath("epmd")
		if err != nil {
			b.Skip("epmd not on PATH (Debian package erlang-base)")
		}
		runEpmd(b, path, epmdPort(b, c.epmd))
	}
	a := c.start("bench@localhost")
	bg := context.Background()
	b.StopTimer()
	for range b.N {
		p := startPeer(b, c.epmd, uniqueName("fresh"), peerOpts{})
		b.StartTimer()
		err := a.Connect(bg, p.Name)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		p.kill9()
		p.wait(waitTime)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/connect")
}

// BenchmarkNodeDownAfterKill: the time from kill -9 of a connected peer
// process (from kill(2) returning, as BEAM's figure is) until a process
// subscribed with MonitorNodes receives NodeDown. BEAM: g1. Run it with a
// fixed count (-benchtime=30x): each iteration starts and kills a process.
func BenchmarkNodeDownAfterKill(b *testing.B) {
	c := newCluster(b)
	a := c.start("bench@localhost")
	me := attach(b, a)
	a.MonitorNodes(me.Pid(), true, false)
	var total time.Duration
	for range b.N {
		p := startPeer(b, c.epmd, uniqueName("doomed"), peerOpts{})
		if err := a.Connect(ctx(b), p.Name); err != nil {
			b.Fatal(err)
		}
		me.Flush()
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := receiveNodeDown(b, me, p.Name, waitTime); err != nil {
			b.Fatalf("no nodedown after kill -9: %v", err)
		}
		total += time.Since(start)
		p.wait(waitTime)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/1e6, "ms/nodedown")
}
