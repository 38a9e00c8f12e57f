package pg

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/gonode/gonode/internal/testcluster"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// Peers in OS processes of their own, for the benchmarks that put each of
// the three nodes in its own process, as BEAM's three VMs are: the test
// binary runs again with PG_BENCH_PEER set, and TestMain runs runPeer
// instead of the tests. The peer starts its node (port mapper at
// PG_BENCH_EPMD), the scope "test" and a process registered as "pgwatch"
// that starts a watcher (watchLoop) for each [:watch, group, ackTo,
// ackEvery] it gets and answers :watching, and answers [:ping, to] with
// :ack to to; it prints "ready" and serves
// until its stdin closes, so it never outlives the benchmark.
const (
	envPeer = "PG_BENCH_PEER"
	envEPMD = "PG_BENCH_EPMD"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(envPeer); name != "" {
		os.Exit(runPeer(name, os.Getenv(envEPMD)))
	}
	os.Exit(m.Run())
}

func runPeer(name, epmd string) int {
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "peer "+name+": "+format+"\n", args...) }
	n, err := dist.Start(context.Background(), dist.Config{Name: name, Cookie: "secret", EPMDAddr: epmd, Logf: logf})
	if err != nil {
		logf("start: %v", err)
		return 1
	}
	defer n.Close()
	s, err := StartWith(n, "test", Options{Logf: logf})
	if err != nil {
		logf("scope: %v", err)
		return 1
	}
	defer s.Close()
	_, err = n.Proc().SpawnOpt(func(p *proc.Process) {
		for {
			m, err := p.Receive(p.Context())
			if err != nil {
				return
			}
			t, ok := m.([]any)
			if ok && len(t) == 2 && t[0] == proc.Atom("ping") {
				to, _ := t[1].(proc.Pid)
				_ = p.Send(to, proc.Atom("ack")) // the baseline: one hop there, one back
				continue
			}
			if !ok || len(t) != 4 || t[0] != proc.Atom("watch") {
				continue
			}
			group, _ := t[1].(string)
			to, _ := t[2].(proc.Pid)
			every, _ := t[3].(int)
			ready := make(chan error, 1)
			if _, err := p.Spawn(func(w *proc.Process) { watchLoop(w, s, group, to, int(every), ready) }); err != nil {
				logf("watcher: %v", err)
				continue
			}
			if err := <-ready; err != nil {
				logf("watcher: %v", err)
				continue
			}
			_ = p.Send(to, proc.Atom("watching"))
		}
	}, proc.SpawnOptions{Name: "pgwatch"})
	if err != nil {
		logf("pgwatch: %v", err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark closes it or exits
	return 0
}

// startPeerProc starts a peer node in its own process; the benchmark's
// cleanup closes its stdin and waits for it (killing it by pid if it
// has not gone within waitTime).
func startPeerProc(b *testing.B, epmd, name string) {
	b.Helper()
	testcluster.StartPeerProc(b, envPeer+"="+name, envEPMD+"="+epmd)
}

// benchClusterProc is benchCluster with b and c in processes of their own.
func benchClusterProc(b *testing.B, group string, ackEvery int) (s *Scope, pid proc.Pid, me *proc.Process) {
	c := newTCPCluster(b)
	a := c.node("pgbench_a@localhost", 0) // serves the port mapper
	s = c.scope(a)
	peers := []string{"pgbench_b@localhost", "pgbench_c@localhost"}
	for _, name := range peers {
		startPeerProc(b, c.EPMD, name)
		if err := a.Connect(ctxFor(b), name); err != nil {
			b.Fatal(err)
		}
	}
	me = attach(b, a)
	for _, name := range peers {
		if err := me.SendName(proc.Name{Name: "pgwatch", Node: name}, []any{proc.Atom("watch"), group, me.Pid(), int64(ackEvery)}); err != nil {
			b.Fatal(err)
		}
	}
	for range peers {
		if m, err := me.ReceiveTimeout(waitTime); err != nil || m != proc.Atom("watching") {
			b.Fatalf("waiting for the watchers: %v %v", m, err)
		}
	}
	pid = spawnMember(b, a)
	// Warm up: one join and leave seen by both, so that the scopes have
	// found each other before the clock runs.
	if ackEvery == 1 {
		for _, f := range []func(string, ...proc.Pid) error{s.Join, s.Leave} {
			if err := f(group, pid); err != nil {
				b.Fatal(err)
			}
			awaitAcks(b, me, 2)
		}
	}
	return s, pid, me
}

// BenchmarkJoinVisible3Proc is BenchmarkJoinVisible3 with b and c in
// processes of their own.
func BenchmarkJoinVisible3Proc(b *testing.B) {
	s, pid, me := benchClusterProc(b, "g", 1)
	benchVisible(b, s, pid, me, "g")
}

// BenchmarkJoinThroughput3Proc is BenchmarkJoinThroughput3 with b and c
// in processes of their own.
func BenchmarkJoinThroughput3Proc(b *testing.B) {
	s, pid, me := benchClusterProc(b, "t", b.N)
	benchThroughput(b, s, pid, me, "t")
}

// BenchmarkPingBaseline3Proc is the floor under BenchmarkJoinVisible3Proc:
// a message from a to a process on b and one on c, each acking back to
// a, without pg; rt-us is the mean until both acks are back.
func BenchmarkPingBaseline3Proc(b *testing.B) {
	_, _, me := benchClusterProc(b, "g", 1)
	peers := []string{"pgbench_b@localhost", "pgbench_c@localhost"}
	b.ResetTimer()
	for range b.N {
		for _, name := range peers {
			if err := me.SendName(proc.Name{Name: "pgwatch", Node: name}, []any{proc.Atom("ping"), me.Pid()}); err != nil {
				b.Fatal(err)
			}
		}
		awaitAcks(b, me, 2)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "rt-us")
}
