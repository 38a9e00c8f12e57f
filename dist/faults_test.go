package dist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// The fault suite of issue 8 (docs/reliability.md has its table): kill -9
// of a peer under load, SIGSTOP and SIGCONT with a sequenced stream, a
// partition between network namespaces (netns_test.go) and a soak of
// three nodes (soak_test.go). Each test logs its figures on lines that
// begin with "figure:", for scripts/fault-suite.sh to collect.
//
// The sequenced streams the tests send are in seqstream_test.go, and
// what a peer of the suite reports when asked in faults_peer_test.go.

// TestFaultKill9UnderLoad: kill -9 of a peer process while four processes
// stream to it and rpcs run. Every link and every monitor on its processes
// fires with noconnection (counted, all of them), the local processes
// linked to them die with noconnection, a nodedown comes, and the rpc in
// flight fails. The times are figures, not assertions.
func TestFaultKill9UnderLoad(t *testing.T) {
	t.Parallel()
	const (
		remote  = 500 // processes on the peer, each linked to and monitored by me
		linked  = 100 // local processes, not trapping exits, each linked to one of them
		senders = 4
	)
	cl := newCluster(t)
	a := cl.start("a@localhost")
	p := startPeer(t, cl.epmd, uniqueName("kill9_"), peerOpts{})
	me := attach(t, a)
	me.TrapExit(true)
	a.MonitorNodes(me.Pid(), true, false)
	if err := a.Connect(ctx(t), p.Name); err != nil {
		t.Fatal(err)
	}
	if _, ok := recv(t, me).(NodeUp); !ok {
		t.Fatal("no nodeup")
	}
	c := a.connFor(p.Name)

	pids := make([]proc.Pid, 0, remote)
	refs := make(map[proc.Ref]proc.Pid, remote)
	for range remote {
		pid, ref, err := a.SpawnRemote(ctx(t), me, p.Name, "seq_sink", nil, SpawnOptions{Link: true, Monitor: true})
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
		refs[ref] = pid
	}
	localRefs := make(map[proc.Ref]proc.Pid, linked)
	for i := range linked {
		target := pids[i]
		ready := make(chan error, 1)
		pid, err := a.Proc().Spawn(func(q *proc.Process) {
			ready <- q.Link(target)
			_, _ = q.Receive(nil) // until the link kills it
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-ready; err != nil {
			t.Fatal(err)
		}
		localRefs[me.Monitor(pid)] = pid
	}
	// The peer has every link and monitor: the rpc travels behind them.
	if v, err := a.RPC(ctx(t), p.Name, "links_of", pids[0]); err != nil || fmt.Sprint(v) != "[2 1]" {
		t.Fatalf("links and monitors on the peer's first process: %v %v", v, err)
	}

	// Load: senders stream to the first processes over c (once c is gone a
	// send would connect again), and rpcs run one after another.
	var (
		sent    atomic.Int64
		calls   atomic.Int64
		stop    atomic.Bool // set when the test ends, failed or not
		running sync.WaitGroup
	)
	for i := range senders {
		s, err := a.Proc().Attach(proc.SpawnOptions{Label: "stream"})
		if err != nil {
			t.Fatal(err)
		}
		running.Add(1)
		go func() {
			defer running.Done()
			defer s.Exit(proc.Normal)
			for n := int64(1); !stop.Load() && a.connFor(p.Name) == c; n++ {
				_ = s.Send(pids[i], []any{atomMsg, n})
				sent.Add(1)
			}
		}()
	}
	rpcErr := make(chan error, 1)
	running.Add(1)
	go func() {
		defer running.Done()
		for !stop.Load() {
			c, cancel := context.WithTimeout(context.Background(), waitTime)
			_, err := a.RPC(c, p.Name, "square", 7)
			cancel()
			if err != nil {
				rpcErr <- err
				return
			}
			calls.Add(1)
		}
	}()
	defer func() { stop.Store(true); running.Wait() }()
	// The queue has filled at least once, and an rpc got through it.
	eventually(t, "the load to flow", func() bool { return sent.Load() > maxQueue && calls.Load() > 0 })

	p.kill9()
	killed := time.Now()
	var (
		nodeDown, last   time.Duration
		exits, downs, ld int
	)
	for exits < remote || downs < remote || ld < linked || nodeDown == 0 {
		m, err := me.ReceiveTimeout(waitTime)
		if err != nil {
			t.Fatalf("after kill -9: nodedown %v, %d of %d links, %d of %d monitors, %d of %d linked local processes: %v",
				nodeDown, exits, remote, downs, remote, ld, linked, err)
		}
		at := time.Since(killed)
		if _, ok := m.(NodeDown); !ok {
			last = at
		}
		switch m := m.(type) {
		case NodeDown:
			if m.Node != p.Name || nodeDown != 0 {
				t.Fatalf("unexpected %v", m)
			}
			nodeDown = at
		case proc.ExitMsg:
			if m.Reason != proc.NoConnection || m.From.Node != p.Name {
				t.Fatalf("link: %v", m)
			}
			exits++
		case proc.DownMsg:
			if pid, ok := refs[m.Ref]; ok {
				if m.Pid != pid || m.Reason != proc.NoConnection {
					t.Fatalf("monitor: %v", m)
				}
				delete(refs, m.Ref)
				downs++
			} else if pid, ok := localRefs[m.Ref]; ok {
				if m.Pid != pid || m.Reason != proc.NoConnection {
					t.Fatalf("linked local process: %v", m)
				}
				delete(localRefs, m.Ref)
				ld++
			} else {
				t.Fatalf("unexpected %v", m)
			}
		default:
			t.Fatalf("unexpected %#v", m)
		}
	}
	if err := <-rpcErr; !errors.Is(err, ErrNodeDown) {
		t.Errorf("rpc in flight across kill -9: %v", err)
	}
	if m, err := me.ReceiveTimeout(0); err == nil {
		t.Errorf("a signal more than expected: %v", m)
	}
	t.Logf("figure: kill -9 of a peer under load (%d senders, %d messages, %d rpcs): nodedown %v after the kill; "+
		"all %d links and %d monitors fired with noconnection and %d linked local processes exited, the last %v after the kill",
		senders, sent.Load(), calls.Load(), nodeDown.Round(10*time.Microsecond), exits, downs, ld, last.Round(10*time.Microsecond))
}

// TestFaultStopCont: a peer frozen with SIGSTOP, once idle and once under
// a stream of sequenced messages, is dropped within a bound of its tick
// time; after SIGCONT it is connected to again, the messages sent after
// that all arrive, and none came twice or out of order.
// (TestPeerStoppedDetection measures the detection itself more closely.)
func TestFaultStopCont(t *testing.T) {
	t.Parallel()
	for _, loaded := range []bool{false, true} {
		name := map[bool]string{false: "idle", true: "loaded"}[loaded]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			faultStopCont(t, loaded)
		})
	}
}

func faultStopCont(t *testing.T, loaded bool) {
	const tick = time.Second
	a, p, me := connectedToPeer(t, "stopcont_", tick)
	// A failure says whether the peer was dropped again after SIGCONT (a
	// machine too loaded for the tick time), not only what timed out.
	t.Cleanup(func() {
		for t.Failed() {
			m, err := me.ReceiveMatchTimeout(0, func(m any) bool { _, ok := m.(NodeDown); return ok })
			if err != nil {
				return
			}
			t.Logf("unexpected: %v", m)
		}
	})
	sink, _, err := a.SpawnRemote(ctx(t), nil, p.Name, "seq_sink", nil, SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := me.Monitor(sink)

	// Idle: me sends bursts of 1,000, and nothing flows while the peer is
	// frozen. Loaded: a source streams without pause all along.
	const burst = 1000
	next := 1
	sendBurst := func() {
		for range burst {
			if err := me.Send(sink, []any{atomMsg, int64(next)}); err != nil {
				t.Fatalf("send %d: %v", next, err)
			}
			next++
		}
	}
	var (
		src  proc.Pid
		sent atomic.Int64
	)
	if loaded {
		src, err = a.Proc().Spawn(func(q *proc.Process) { _ = seqSourceLoop(q, sink, 256, 0, &sent) })
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the stream to flow", func() bool { return sent.Load() > 4*maxQueue })
	} else {
		sendBurst()
		if r := waitSeqReport(t, me, sink, "the first burst", func(r seqReport) bool { return r.Received >= burst }); r.Received != burst || r.Bad != 0 {
			t.Fatalf("before SIGSTOP: %v", r)
		}
	}
	before := int(sent.Load())
	if !loaded {
		before = burst
	}

	if err := p.signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	nd, err := receiveNodeDown(t, me, p.Name, 10*tick)
	detected := time.Since(stopped)
	if err != nil {
		_ = p.signal(syscall.SIGCONT)
		t.Fatalf("no nodedown within %v of SIGSTOP: %v", 10*tick, err)
	}
	if nd.Reason != "net_tick_timeout" {
		t.Errorf("nodedown of a frozen peer: %v, want net_tick_timeout", nd)
	}
	// A bound for "dropped at all", not a figure: within the tick time of
	// the peer's last frame, plus generous slack for a loaded machine.
	if detected > 3*tick {
		t.Errorf("frozen peer dropped %v after SIGSTOP, over 3 tick times (%v)", detected, tick)
	}
	if d, ok := recv(t, me).(proc.DownMsg); !ok || d.Ref != ref || d.Reason != proc.NoConnection {
		t.Fatalf("monitor of the frozen peer's sink: %v", d)
	}

	if err := p.signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	eventually(t, "connecting to the resumed peer", func() bool {
		return a.Ping(ctx(t), p.Name) == "pong"
	})
	reconnected := time.Since(resumed)
	afterReconnect := sent.Load()

	var r seqReport
	var last, failed int
	if loaded {
		// The stream goes on over the new connection; then it stops, and
		// everything up to its last message must arrive.
		mid := askSeqReport(t, me, sink, false)
		waitSeqReport(t, me, sink, "the stream over the new connection", func(r seqReport) bool { return r.Received > mid.Received+burst })
		last, failed = stopSource(t, me, src)
	} else {
		sendBurst()
		last = next - 1
	}
	r = waitSeqReport(t, me, sink, "the last message", func(r seqReport) bool { return r.Last == last || r.Bad > 0 })
	r = askSeqReport(t, me, sink, true)
	if r.Bad != 0 {
		t.Fatalf("delivered twice or out of order across SIGSTOP/SIGCONT: %v", r)
	}
	if r.Last != last {
		t.Fatalf("the last message %d did not arrive: %v", last, r)
	}
	if !loaded && r.Received != last {
		t.Fatalf("idle peer: lost messages although none was in flight: %v", r)
	}
	mode := map[bool]string{false: "an idle", true: "a loaded"}[loaded]
	t.Logf("figure: SIGSTOP of %s peer: nodedown after %v (tick time %v, %v); after SIGCONT connected again in %v; "+
		"%d messages sent (%d before SIGSTOP, %d by the reconnect, %d sends failed), %d received, %d lost, %d gaps [%s], 0 duplicated or reordered",
		mode, detected.Round(time.Millisecond), tick, nd.Reason, reconnected.Round(time.Millisecond),
		last, before, afterReconnect, failed, r.Received, last-r.Received, r.Gaps, r.GapList)
}
