package dist

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// envSoak sets how long TestFaultSoak runs (a time.Duration, e.g. 10m, as
// scripts/soak.sh does); CI runs it for soakDefault.
const (
	envSoak     = "GONODE_SOAK"
	soakDefault = 15 * time.Second
)

// TestFaultSoak runs three nodes (this process's and two peer processes)
// under mixed traffic: echo round trips, rpcs, remote spawns with a link
// and a monitor, two sequenced streams (a to c, and b to c while b keeps
// disconnecting from c), and short-lived nodes that connect to the peers,
// call them and stop. It samples each node's goroutines and heap (after a
// garbage collection) as it goes and checks that they stay bounded: at
// the end of the traffic within twice their level after the warm-up (plus
// a little), and back to their level before the traffic once it stops.
//
// Not parallel: this process's figures would count the other tests'. (Its
// workers make their own contexts: ctx(t) keeps each until the test ends.)
func TestFaultSoak(t *testing.T) {
	d := soakDefault
	if s := os.Getenv(envSoak); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			t.Fatalf("%s=%q: want a duration such as 10m", envSoak, s)
		}
		d = v
	}
	const tick = 5 * time.Second
	warmup, every := d/5, max(d/20, time.Second)
	cl := newCluster(t)
	a := cl.start("soak_a@localhost", func(cfg *Config) { cfg.TickTime = tick })
	b := startPeer(t, cl.epmd, uniqueName("soakb"), peerOpts{tick: tick})
	c := startPeer(t, cl.epmd, uniqueName("soakc"), peerOpts{tick: tick})
	for _, p := range []*peerProc{b, c} {
		if err := a.Connect(ctx(t), p.Name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.RPC(ctx(t), b.Name, "echo", "mesh"); err != nil {
		t.Fatal(err)
	}
	names := []string{a.Name(), b.Name, c.Name}
	sample := func() [3]nodeStats {
		return [3]nodeStats{statsOf(a), peerStats(t, a, b.Name), peerStats(t, a, c.Name)}
	}
	base := sample()

	var (
		stop                                 atomic.Bool
		echoes, rpcs, spawns, churns, cutsBC atomic.Int64
		workers                              sync.WaitGroup
	)
	defer func() { stop.Store(true); workers.Wait() }()
	// worker runs body in a process of a until the traffic stops; a
	// failing body fails the test and ends the worker.
	worker := func(label string, body func(w *proc.Process, i int) error) {
		w, err := a.Proc().Attach(proc.SpawnOptions{Label: label})
		if err != nil {
			t.Fatal(err)
		}
		workers.Add(1)
		go func() {
			defer workers.Done()
			defer w.Exit(proc.Normal)
			for i := 1; !stop.Load(); i++ {
				if err := body(w, i); err != nil {
					t.Errorf("%s: %v", label, err)
					return
				}
			}
		}()
	}
	for _, p := range []*peerProc{b, c} {
		echo := proc.Name{Name: "echo", Node: p.Name}
		worker("echo "+p.Name, func(w *proc.Process, i int) error {
			if err := w.SendName(echo, []any{w.Pid(), []any{"ping", int64(i)}}); err != nil {
				return err
			}
			m, err := w.ReceiveTimeout(waitTime)
			if err != nil || fmt.Sprint(m) != fmt.Sprint([]any{"ping", int64(i)}) {
				return fmt.Errorf("round trip %d: %v %v", i, m, err)
			}
			echoes.Add(1)
			return nil
		})
		worker("rpc "+p.Name, func(w *proc.Process, i int) error {
			ctx, cancel := context.WithTimeout(context.Background(), waitTime)
			defer cancel()
			v, err := a.RPC(ctx, p.Name, "square", i%1000)
			if err != nil || v != int(i%1000*(i%1000)) {
				return fmt.Errorf("square %d: %v %v", i%1000, v, err)
			}
			rpcs.Add(1)
			return nil
		})
		worker("spawn "+p.Name, func(w *proc.Process, i int) error {
			w.TrapExit(true)
			ctx, cancel := context.WithTimeout(context.Background(), waitTime)
			defer cancel()
			pid, ref, err := a.SpawnRemote(ctx, w, p.Name, "counter", []any{1, w.Pid()}, SpawnOptions{Link: true, Monitor: true})
			if err != nil {
				return err
			}
			if err := w.Send(pid, []any{atomMsg, int64(1)}); err != nil {
				return err
			}
			for got := 0; got < 3; got++ {
				m, err := w.ReceiveTimeout(waitTime)
				if err != nil {
					return fmt.Errorf("spawned %v: %d of 3 messages: %v", pid, got, err)
				}
				switch m := m.(type) {
				case []any: // counted
					if len(m) != 4 || m[0] != atomCounted || m[3] != "" {
						return fmt.Errorf("spawned %v: %v", pid, m)
					}
				case proc.DownMsg:
					if m.Ref != ref || m.Reason != proc.Normal {
						return fmt.Errorf("spawned %v: %v", pid, m)
					}
				case proc.ExitMsg:
					if m.From != pid || m.Reason != proc.Normal {
						return fmt.Errorf("spawned %v: %v", pid, m)
					}
				default:
					return fmt.Errorf("spawned %v: %#v", pid, m)
				}
			}
			spawns.Add(1)
			return nil
		})
	}
	// Churn: a node that connects to b (and, meshing, to the others),
	// calls c, and stops; and b dropping its connection to c now and then.
	worker("churn", func(w *proc.Process, i int) error {
		n, err := cl.tryStart(fmt.Sprintf("churn%d_%d@localhost", i, os.Getpid()))
		if err != nil {
			return err
		}
		defer n.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitTime)
		defer cancel()
		for _, p := range []string{b.Name, c.Name} {
			if v, err := n.RPC(ctx, p, "square", 3); err != nil || v != int(9) {
				return fmt.Errorf("churn node calling %s: %v %v", p, v, err)
			}
		}
		if i%10 == 0 {
			if v, err := a.RPC(ctx, b.Name, "disconnect", c.Name); err != nil {
				return err
			} else if v == true {
				cutsBC.Add(1)
			}
		}
		churns.Add(1)
		_, _ = w.ReceiveTimeout(50 * time.Millisecond) // pace
		return nil
	})
	// The streams: a to c must lose nothing; b to c loses what its
	// connection held when b dropped it.
	me := attach(t, a)
	sinkAC, _, err := a.SpawnRemote(ctx(t), nil, c.Name, "seq_sink", nil, SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srcAC, err := a.Proc().Spawn(func(q *proc.Process) { _ = seqSourceLoop(q, sinkAC, 20, time.Millisecond, nil) })
	if err != nil {
		t.Fatal(err)
	}
	sinkBC, _, err := a.SpawnRemote(ctx(t), nil, c.Name, "seq_sink", nil, SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srcBC, _, err := a.SpawnRemote(ctx(t), nil, b.Name, "seq_source", []any{sinkBC, 20, 1000}, SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	var warm, end [3]nodeStats
	var peak [3]nodeStats
	timer := time.NewTicker(every)
	defer timer.Stop()
	warmed := false
	for time.Since(start) < d {
		<-timer.C // sampling pace, not a wait for a condition
		s := sample()
		for i := range s {
			peak[i].Goroutines = max(peak[i].Goroutines, s[i].Goroutines)
			peak[i].Heap = max(peak[i].Heap, s[i].Heap)
			peak[i].Procs = max(peak[i].Procs, s[i].Procs)
		}
		if !warmed && time.Since(start) >= warmup {
			warm, warmed = s, true
		}
		end = s
		t.Logf("sample %v: %s: %v; %s: %v; %s: %v", time.Since(start).Round(time.Second), names[0], s[0], names[1], s[1], names[2], s[2])
		if t.Failed() {
			break
		}
	}
	stop.Store(true)
	workers.Wait()
	lastAC, _ := stopSource(t, me, srcAC)
	lastBC, _ := stopSource(t, me, srcBC)
	rAC := waitSeqReport(t, me, sinkAC, "the end of the stream a to c", func(r seqReport) bool { return r.Last == lastAC || r.Bad > 0 })
	rBC := waitSeqReport(t, me, sinkBC, "the end of the stream b to c", func(r seqReport) bool { return r.Last == lastBC || r.Bad > 0 })
	rAC, rBC = askSeqReport(t, me, sinkAC, true), askSeqReport(t, me, sinkBC, true)
	if rAC.Bad != 0 || rAC.Received != lastAC {
		t.Errorf("stream a to c: %d sent, %v; want all, once each, in order", lastAC, rAC)
	}
	if rBC.Bad != 0 || rBC.Last != lastBC {
		t.Errorf("stream b to c: %d sent, %v; want none twice or out of order, and the last", lastBC, rBC)
	}
	me.Exit(proc.Normal)

	// Bounded while the traffic ran: the end within twice the warm-up.
	for i, n := range names {
		if end[i].Goroutines > 2*warm[i].Goroutines+20 {
			t.Errorf("%s: %d goroutines at the end of the traffic, %d after the warm-up", n, end[i].Goroutines, warm[i].Goroutines)
		}
		if end[i].Heap > 2*warm[i].Heap+8<<20 {
			t.Errorf("%s: %.1f MiB heap at the end of the traffic, %.1f MiB after the warm-up", n, mib(end[i].Heap), mib(warm[i].Heap))
		}
	}
	// And back to where it began once the traffic stopped.
	var quiet [3]nodeStats
	deadline := time.Now().Add(waitTime)
	for {
		quiet = sample()
		settled := true
		for i := range quiet {
			settled = settled && quiet[i].Goroutines <= base[i].Goroutines+5 && quiet[i].Procs <= base[i].Procs
		}
		if settled {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines and processes not back to their level before the traffic within %v:\nbefore: %v\nafter:  %v", waitTime, base, quiet)
			break
		}
		time.Sleep(50 * time.Millisecond) // polling a condition under a deadline
	}

	var g, h []string
	for i, n := range names {
		short, _, _ := strings.Cut(n, "@")
		g = append(g, fmt.Sprintf("%s %d/%d/%d/%d/%d", short, base[i].Goroutines, warm[i].Goroutines, peak[i].Goroutines, end[i].Goroutines, quiet[i].Goroutines))
		h = append(h, fmt.Sprintf("%s %.1f/%.1f/%.1f/%.1f/%.1f", short, mib(base[i].Heap), mib(warm[i].Heap), mib(peak[i].Heap), mib(end[i].Heap), mib(quiet[i].Heap)))
	}
	t.Logf("figure: soak of 3 nodes for %v: %d echo round trips, %d rpcs, %d remote spawns with link and monitor, "+
		"%d churn nodes, stream a->c %d sent %d lost, stream b->c %d sent %d lost across %d disconnects, 0 duplicated or reordered",
		d, echoes.Load(), rpcs.Load(), spawns.Load(), churns.Load(), lastAC, lastAC-rAC.Received, lastBC, lastBC-rBC.Received, cutsBC.Load())
	t.Logf("figure: soak goroutines before/warm-up/peak/end/after: %s", strings.Join(g, ", "))
	t.Logf("figure: soak heap MiB before/warm-up/peak/end/after: %s", strings.Join(h, ", "))
}

func mib(n int) float64 { return float64(n) / (1 << 20) }
