package pg

import (
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// The benchmarks beside BEAM's :pg (scripts/bench-pg.sh runs both; the
// figures are in docs/benchmarks.md). Three nodes on loopback TCP, one
// scope each. A watcher on b and one on c monitor the group and send an
// ack to the benchmark's process on a for every notification (or every
// ackEvery joined pids): the time counted runs from the join on a until
// both acks are back on a, as scripts/bench-pg-beam.erl counts it on BEAM.

// startWatcher starts a watcher of group on s's node that acks to to.
func startWatcher(b *testing.B, s *Scope, group string, to proc.Pid, ackEvery int) {
	b.Helper()
	ready := make(chan error, 1)
	_, err := s.node.Proc().Spawn(func(p *proc.Process) { watchLoop(p, s, group, to, ackEvery, ready) })
	if err != nil {
		b.Fatal(err)
	}
	if err := <-ready; err != nil {
		b.Fatal(err)
	}
}

// watchLoop monitors group and sends :ack to to for every ackEvery pids
// joined, and every ackEvery left, until the process dies.
func watchLoop(p *proc.Process, s *Scope, group string, to proc.Pid, ackEvery int, ready chan<- error) {
	ref, _, err := s.Monitor(group, p.Pid())
	ready <- err
	joined, left := 0, 0
	for {
		m, err := p.Receive(p.Context())
		if err != nil {
			return
		}
		switch m := m.(type) {
		case JoinMsg:
			if m.Ref == ref {
				joined += len(m.Pids)
				if joined%ackEvery == 0 {
					_ = p.Send(to, proc.Atom("ack"))
				}
			}
		case LeaveMsg:
			if m.Ref == ref {
				left += len(m.Pids)
				if left%ackEvery == 0 {
					_ = p.Send(to, proc.Atom("ack"))
				}
			}
		}
	}
}

// benchCluster starts three nodes on TCP, a scope on each, a member and
// the benchmark's process on a, and watchers of group on b and c.
func benchCluster(b *testing.B, group string, ackEvery int) (s *Scope, pid proc.Pid, me *proc.Process) {
	c := newTCPCluster(b)
	var ns []*dist.Node
	var ss []*Scope
	for _, name := range []string{"pgbench_a@localhost", "pgbench_b@localhost", "pgbench_c@localhost"} {
		n := c.node(name, 0)
		ns = append(ns, n)
		ss = append(ss, c.scope(n))
	}
	connect(b, ns[0], ns[1], ns[2])
	me = attach(b, ns[0])
	for _, s := range ss[1:] {
		startWatcher(b, s, group, me.Pid(), ackEvery)
	}
	return ss[0], spawnMember(b, ns[0]), me
}

func awaitAcks(b *testing.B, me *proc.Process, n int) {
	for range n {
		if m, err := me.ReceiveTimeout(waitTime); err != nil || m != proc.Atom("ack") {
			b.Fatalf("waiting for an ack: %v %v", m, err)
		}
	}
}

// BenchmarkJoinVisible3: one join on a until b's and c's watchers have
// seen it, then one leave likewise; join-us and leave-us are the means.
func BenchmarkJoinVisible3(b *testing.B) {
	s, pid, me := benchCluster(b, "g", 1)
	benchVisible(b, s, pid, me, "g")
}

// BenchmarkJoinThroughput3: b.N joins on a, one call after another, until
// b and c have seen the last; then (not timed) one leave of them all.
func BenchmarkJoinThroughput3(b *testing.B) {
	s, pid, me := benchCluster(b, "t", b.N)
	benchThroughput(b, s, pid, me, "t")
}

func benchVisible(b *testing.B, s *Scope, pid proc.Pid, me *proc.Process, group string) {
	var joins, leaves time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := s.Join(group, pid); err != nil {
			b.Fatal(err)
		}
		awaitAcks(b, me, 2)
		t1 := time.Now()
		if err := s.Leave(group, pid); err != nil {
			b.Fatal(err)
		}
		awaitAcks(b, me, 2)
		joins += t1.Sub(t0)
		leaves += time.Since(t1)
	}
	b.ReportMetric(float64(joins.Microseconds())/float64(b.N), "join-us")
	b.ReportMetric(float64(leaves.Microseconds())/float64(b.N), "leave-us")
}

func benchThroughput(b *testing.B, s *Scope, pid proc.Pid, me *proc.Process, group string) {
	b.ResetTimer()
	t0 := time.Now()
	for range b.N {
		if err := s.Join(group, pid); err != nil {
			b.Fatal(err)
		}
	}
	awaitAcks(b, me, 2)
	d := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/d.Seconds(), "joins/s")
	all := make([]proc.Pid, b.N)
	for i := range all {
		all[i] = pid
	}
	if err := s.Leave(group, all...); err != nil {
		b.Fatal(err)
	}
	awaitAcks(b, me, 2)
}

// BenchmarkMembers: Members of a group of 10 on the local replica (as
// pg:get_members reads ETS), and AppendMembers into a reused buffer;
// ns/read is ns/op.
func BenchmarkMembers(b *testing.B) {
	c := newTCPCluster(b)
	n := c.node("pgbench_r@localhost", 0)
	s := c.scope(n)
	pid := spawnMember(b, n)
	for range 10 {
		if err := s.Join("g", pid); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Members", func(b *testing.B) {
		for range b.N {
			if len(s.Members("g")) != 10 {
				b.Fatal("not 10 members")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/read")
	})
	b.Run("AppendMembers", func(b *testing.B) {
		var buf []proc.Pid
		for range b.N {
			if buf = s.AppendMembers(buf[:0], "g"); len(buf) != 10 {
				b.Fatal("not 10 members")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/read")
	})
}
