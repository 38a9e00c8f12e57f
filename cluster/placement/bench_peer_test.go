package placement

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testcluster"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// Peers in OS processes of their own for BenchmarkSkew, so that each
// node's CPU figure is its own: the test binary runs again with
// PLACEMENT_BENCH_PEER set, and TestMain runs runPeer instead of the
// tests. The peer starts its node (port mapper at PLACEMENT_BENCH_EPMD),
// placement, a bench worker (startWorker) and PLACEMENT_BENCH_SPIN
// spinning processes; it prints "ready" and serves until its stdin
// closes, so it never outlives the benchmark.
const (
	envPeer  = "PLACEMENT_BENCH_PEER"
	envEPMD  = "PLACEMENT_BENCH_EPMD"
	envSpin  = "PLACEMENT_BENCH_SPIN"
	envIters = "PLACEMENT_BENCH_ITERS"
	envEvery = "PLACEMENT_BENCH_INTERVAL"
	// workerName is the bench worker's registered name on every node.
	workerName = "placement_bench"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(envPeer); name != "" {
		os.Exit(runPeer(name))
	}
	os.Exit(m.Run())
}

func runPeer(name string) int {
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "peer "+name+": "+format+"\n", args...) }
	n, err := dist.Start(context.Background(), dist.Config{Name: name, Cookie: "secret", EPMDAddr: os.Getenv(envEPMD), Logf: logf})
	if err != nil {
		logf("start: %v", err)
		return 1
	}
	defer n.Close()
	every, _ := time.ParseDuration(os.Getenv(envEvery))
	s, err := Start(n, Options{Interval: every, Logf: logf})
	if err != nil {
		logf("placement: %v", err)
		return 1
	}
	defer s.Close()
	iters, _ := strconv.Atoi(os.Getenv(envIters))
	if err := startWorker(n, iters); err != nil {
		logf("worker: %v", err)
		return 1
	}
	spin, _ := strconv.Atoi(os.Getenv(envSpin))
	if err := startSpinners(n, spin); err != nil {
		logf("spinners: %v", err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark closes it or exits
	return 0
}

// startWorker registers the bench worker on n: for each :task it gets it
// spawns a process that burns iters rounds of CPU and ends; [:count, to]
// is answered with [:counted, node, tasks received, tasks done].
func startWorker(n *dist.Node, iters int) error {
	var done atomic.Int64 // tasks finished; written by the task processes
	_, err := n.Proc().SpawnOpt(func(p *proc.Process) {
		received := 0
		for {
			m, err := p.Receive(p.Context())
			if err != nil {
				return
			}
			if m == proc.Atom("task") {
				received++
				_, _ = p.Spawn(func(*proc.Process) { burn(iters); done.Add(1) })
				continue
			}
			if t, ok := m.([]any); ok && len(t) == 2 && t[0] == proc.Atom("count") {
				to, _ := t[1].(proc.Pid)
				_ = p.Send(to, []any{proc.Atom("counted"), n.Name(), int64(received), done.Load()})
			}
		}
	}, proc.SpawnOptions{Name: workerName})
	return err
}

// startSpinners starts k processes that burn CPU until their node stops:
// the busy node's load, made on purpose.
func startSpinners(n *dist.Node, k int) error {
	for range k {
		_, err := n.Proc().Spawn(func(p *proc.Process) {
			ctx := p.Context()
			for ctx.Err() == nil {
				burn(10000)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

var sink atomic.Uint64 // keeps burn's result, so the loop is not optimised away

// burn runs n rounds of xorshift: CPU work with no allocation and no
// system call.
func burn(n int) {
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	sink.Add(x & 1)
}

// startPeerProc starts a peer node in its own process; the benchmark's
// cleanup closes its stdin and waits for it (killing it by pid if it has
// not gone within waitTime).
func startPeerProc(b *testing.B, env ...string) {
	b.Helper()
	testcluster.StartPeerProc(b, env...)
}
