package proc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks of the process runtime. Each one mirrors a row of the BEAM
// reference (../shared/bench/beam/bench.exs, "local") so that the two can
// be compared as ratios measured in the same sitting; docs/benchmarks.md has
// the figures and scripts/bench-proc.sh runs the suite. Besides ns/op each
// benchmark reports the unit BEAM's row uses (procs/s, msgs/s, ns/rt,
// bytes/proc) with b.ReportMetric.

// benchNode is a node for one benchmark run, stopped when the benchmark ends.
func benchNode(b *testing.B) (*Node, *Process) {
	b.Helper()
	n := newNode(b)
	return n, attach(b, n)
}

func reportRate(b *testing.B, count int, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(count)/s, unit)
	}
}

// noop is a process body that returns at once (reason normal).
func noop(*Process) {}

// BenchmarkSpawnMonitorExit spawns a process that returns at once, monitored,
// and waits for its DownMsg before the next one: BEAM's spawn_monitor +
// receive {'DOWN', ...} loop (row a1s).
func BenchmarkSpawnMonitorExit(b *testing.B) {
	_, me := benchNode(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_, ref, err := me.SpawnMonitor(noop)
		if err != nil {
			b.Fatal(err)
		}
		m, err := me.Receive(nil)
		if err != nil {
			b.Fatal(err)
		}
		if d, ok := m.(DownMsg); !ok || d.Ref != ref || d.Reason != Normal {
			b.Fatalf("got %#v, want the DownMsg of %v", m, ref)
		}
	}
	b.StopTimer()
	reportRate(b, b.N, "procs/s")
}

// BenchmarkSpawnChain starts b.N processes, each spawned by the one before,
// which then returns; the last tells the benchmark (BEAM row a1c).
func BenchmarkSpawnChain(b *testing.B) {
	_, me := benchNode(b)
	to := me.Pid()
	var link func(left int) Func
	link = func(left int) Func {
		return func(p *Process) {
			if left <= 1 {
				_ = p.Send(to, "chain_done")
				return
			}
			if _, err := p.Spawn(link(left - 1)); err != nil {
				p.Exit(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := me.Spawn(link(b.N)); err != nil {
		b.Fatal(err)
	}
	if m, err := me.Receive(nil); err != nil || m != "chain_done" {
		b.Fatalf("got %v %v", m, err)
	}
	b.StopTimer()
	reportRate(b, b.N, "procs/s")
}

// idleCount is how many idle processes the memory benchmarks start, as
// BEAM's row a2 does.
const idleCount = 100_000

// idleMemoryEnv, when set to a style, makes TestIdleMemoryHelper measure
// that style and print the result.
const idleMemoryEnv = "GONODE_IDLE_MEMORY"

// idleMemory is one measurement of memory per idle process.
type idleMemory struct {
	heap, stack float64 // bytes per process
	spawnRate   float64 // processes started per second, until all were idle
}

// measureIdleMemory starts idleCount processes of the given style on a new
// node and returns, after a GC, the growth of HeapInuse and StackInuse per
// process while they all wait for a message (BEAM row a2: memory(processes)
// delta / 100k). It counts everything a process holds: its record, its
// goroutine's stack and descriptor, what the goroutine blocked in a channel
// receive holds, its slot in the node's table.
//
// Run it in a fresh process (BenchmarkIdleMemory does): in a runtime that
// has run goroutines before, new goroutines reuse the descriptors of dead
// ones, which hides them from the delta, and Go's adaptive initial stack
// size, computed at each GC from the goroutines it scanned, can start new
// goroutines with 4 KB stacks after a GC that saw only a few deep stacks.
func measureIdleMemory(style string) (idleMemory, error) {
	n, err := NewNode("mem@localhost", 1)
	if err != nil {
		return idleMemory{}, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTime)
		defer cancel()
		_ = n.Stop(ctx)
	}()
	var ready sync.WaitGroup
	ready.Add(idleCount)
	var spawn func() error
	switch style {
	case "goroutine":
		body := func(p *Process) {
			ready.Done()
			_, _ = p.Receive(nil)
		}
		spawn = func() error { _, err := n.Spawn(body); return err }
	case "handler":
		h := func(p *Process, msg any) {}
		spawn = func() error {
			_, err := n.SpawnHandler(h, SpawnOptions{})
			ready.Done()
			return err
		}
	default:
		return idleMemory{}, fmt.Errorf("unknown style %q", style)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	start := time.Now()
	for range idleCount {
		if err := spawn(); err != nil {
			return idleMemory{}, err
		}
	}
	ready.Wait()
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if c := n.Count(); c != idleCount {
		return idleMemory{}, fmt.Errorf("%d processes alive, want %d", c, idleCount)
	}
	return idleMemory{
		heap:      float64(int64(m1.HeapInuse)-int64(m0.HeapInuse)) / idleCount,
		stack:     float64(int64(m1.StackInuse)-int64(m0.StackInuse)) / idleCount,
		spawnRate: idleCount / took.Seconds(),
	}, nil
}

// TestIdleMemoryHelper is not a test: BenchmarkIdleMemory runs the test
// binary again with only this test selected and idleMemoryEnv set, so that
// each measurement is made in a fresh runtime.
func TestIdleMemoryHelper(t *testing.T) {
	style := os.Getenv(idleMemoryEnv)
	if style == "" {
		t.Skip("a helper process of BenchmarkIdleMemory")
	}
	m, err := measureIdleMemory(style)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("idle-memory %s %.1f %.1f %.0f\n", style, m.heap, m.stack, m.spawnRate)
}

// benchIdleMemory runs one fresh measurement per iteration and reports
// their mean: bytes/proc (heap + stack), and its parts.
func benchIdleMemory(b *testing.B, style string) {
	var sum idleMemory
	for range b.N {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIdleMemoryHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), idleMemoryEnv+"="+style)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("helper: %v\n%s", err, out)
		}
		var m idleMemory
		found := false
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 5 && f[0] == "idle-memory" && f[1] == style {
				_, err = fmt.Sscan(strings.Join(f[2:], " "), &m.heap, &m.stack, &m.spawnRate)
				found = err == nil
			}
		}
		if !found {
			b.Fatalf("helper printed no result:\n%s", out)
		}
		sum.heap += m.heap
		sum.stack += m.stack
		sum.spawnRate += m.spawnRate
	}
	k := float64(b.N)
	b.ReportMetric((sum.heap+sum.stack)/k, "bytes/proc")
	b.ReportMetric(sum.heap/k, "heap-bytes/proc")
	b.ReportMetric(sum.stack/k, "stack-bytes/proc")
	b.ReportMetric(sum.spawnRate/k, "procs/s")
	b.ReportMetric(0, "ns/op") // an op is a helper process: its time means nothing here
}

// BenchmarkIdleMemory/goroutine: processes blocked in Receive on a goroutine
// of their own. BenchmarkIdleMemory/handler: handler-style processes, which
// hold no goroutine while their mailbox is empty.
func BenchmarkIdleMemory(b *testing.B) {
	b.Run("goroutine", func(b *testing.B) { benchIdleMemory(b, "goroutine") })
	b.Run("handler", func(b *testing.B) { benchIdleMemory(b, "handler") })
}

// benchMsg is the message the send benchmarks stream, as BEAM's {msg, I}.
type benchMsg struct{ Seq int }

// counter is a process body that receives want messages, then tells to.
func counter(want int, to Pid) Func {
	return func(p *Process) {
		for range want {
			if _, err := p.Receive(nil); err != nil {
				return
			}
		}
		_ = p.Send(to, "counted")
	}
}

// BenchmarkSend1to1 streams b.N messages from one process to another and
// stops the clock when the receiver has taken them all (BEAM row b1).
func BenchmarkSend1to1(b *testing.B) {
	_, me := benchNode(b)
	rcv, err := me.Spawn(counter(b.N, me.Pid()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_ = me.Send(rcv, benchMsg{i})
	}
	if m, err := me.Receive(nil); err != nil || m != "counted" {
		b.Fatalf("got %v %v", m, err)
	}
	b.StopTimer()
	reportRate(b, b.N, "msgs/s")
}

// BenchmarkSend4to1 streams b.N messages from four processes to one.
func BenchmarkSend4to1(b *testing.B) {
	const senders = 4
	_, me := benchNode(b)
	rcv, err := me.Spawn(counter(b.N, me.Pid()))
	if err != nil {
		b.Fatal(err)
	}
	snd := make([]Pid, senders)
	for s := range senders {
		share := b.N / senders
		if s < b.N%senders {
			share++
		}
		snd[s], err = me.Spawn(func(p *Process) {
			if _, err := p.Receive(nil); err != nil {
				return
			}
			for i := range share {
				_ = p.Send(rcv, benchMsg{i})
			}
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, s := range snd {
		_ = me.Send(s, "go")
	}
	if m, err := me.Receive(nil); err != nil || m != "counted" {
		b.Fatalf("got %v %v", m, err)
	}
	b.StopTimer()
	reportRate(b, b.N, "msgs/s")
}

type ping struct {
	From Pid
	N    int
}

type pong struct{ N int }

// echo answers every ping with a pong.
func echo(p *Process) {
	for {
		m, err := p.Receive(nil)
		if err != nil {
			return
		}
		if pi, ok := m.(ping); ok {
			_ = p.Send(pi.From, pong{pi.N})
		}
	}
}

// latencies is a histogram of per-operation times, for the median and p99
// that BEAM's rows c1 and c2 report (each sample costs two clock reads,
// there and here alike).
type latencies struct {
	buckets [latencyBuckets]int // by latencyStep; the last one counts all longer
	n       int
}

const (
	latencyStep    = 5 * time.Nanosecond
	latencyBuckets = 20_000 // up to 100 us
)

func (l *latencies) add(d time.Duration) {
	i := int(d / latencyStep)
	if i >= latencyBuckets {
		i = latencyBuckets - 1
	}
	l.buckets[i]++
	l.n++
}

// quantile returns the upper bound of the bucket holding quantile q.
func (l *latencies) quantile(q float64) float64 {
	want := int(q*float64(l.n)) + 1
	seen := 0
	for i, c := range l.buckets {
		seen += c
		if seen >= want {
			return float64(time.Duration(i+1) * latencyStep)
		}
	}
	return float64(time.Duration(latencyBuckets) * latencyStep)
}

func (l *latencies) report(b *testing.B, unit string) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), unit)
	b.ReportMetric(l.quantile(0.5), "p50-ns")
	b.ReportMetric(l.quantile(0.99), "p99-ns")
}

// BenchmarkPingPong times round trips between two processes: one sends
// ping, the other answers pong, one at a time (BEAM row c1). It reports the
// mean (ns/rt, like BEAM's batch mean) and the median and p99 of per-round-
// trip samples.
func BenchmarkPingPong(b *testing.B) {
	_, me := benchNode(b)
	e, err := me.Spawn(echo)
	if err != nil {
		b.Fatal(err)
	}
	self := me.Pid()
	lat := new(latencies)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		t := time.Now()
		_ = me.Send(e, ping{From: self, N: i})
		m, err := me.Receive(nil)
		lat.add(time.Since(t))
		if err != nil {
			b.Fatal(err)
		}
		if m.(pong).N != i {
			b.Fatalf("got %v, want pong %d", m, i)
		}
	}
	b.StopTimer()
	lat.report(b, "ns/rt")
}

// BenchmarkCall times Process.Call against a process that replies at once;
// Call monitors the callee for its duration, as gen:call does (BEAM row c2,
// GenServer.call, which reports the median of per-call samples).
func BenchmarkCall(b *testing.B) {
	_, me := benchNode(b)
	server, err := me.Spawn(func(p *Process) {
		for {
			m, err := p.Receive(nil)
			if err != nil {
				return
			}
			if req, ok := m.(CallRequest); ok {
				_ = p.Reply(req, req.Request)
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	lat := new(latencies)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		t := time.Now()
		r, err := me.Call(server, i, time.Minute)
		lat.add(time.Since(t))
		if err != nil || r != i {
			b.Fatalf("call %d: %v %v", i, r, err)
		}
	}
	b.StopTimer()
	lat.report(b, "ns/call")
	if q := me.MessageQueueLen(); q != 0 {
		b.Fatalf("%d messages left behind", q)
	}
}

// deepMailbox is how many unmatched messages the selective receive benchmark
// keeps queued ahead of the one it takes.
const deepMailbox = 10_000

type filler struct{ N int }
type wanted struct{ N int }

// BenchmarkSelectiveReceiveDeep keeps deepMailbox messages that never match
// in the mailbox and, per op, sends one that does and takes it with
// ReceiveMatch: every receive scans past all the others to the last.
func BenchmarkSelectiveReceiveDeep(b *testing.B) {
	n, me := benchNode(b)
	for i := range deepMailbox {
		_ = n.Send(me.Pid(), filler{i})
	}
	isWanted := func(m any) bool { _, ok := m.(wanted); return ok }
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_ = n.Send(me.Pid(), wanted{i})
		m, err := me.ReceiveMatch(nil, isWanted)
		if err != nil || m.(wanted).N != i {
			b.Fatalf("got %v %v, want wanted{%d}", m, err, i)
		}
	}
	b.StopTimer()
	reportRate(b, b.N*deepMailbox, "scanned-msgs/s")
	if q := me.MessageQueueLen(); q != deepMailbox {
		b.Fatalf("%d messages queued, want %d", q, deepMailbox)
	}
}
