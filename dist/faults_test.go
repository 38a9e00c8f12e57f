package dist

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
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
// Sequenced streams: a source sends []any{:msg, i} for i = 1, 2, ...; a
// sink checks that the numbers it gets only grow. Across a disconnect
// delivery is at most once: a run of numbers may be missing (a gap), but
// none may come twice or out of order.

var (
	atomReport    = proc.Atom("report")
	atomSeqReport = proc.Atom("seqreport")
	atomStop      = proc.Atom("stop")
	atomStopped   = proc.Atom("stopped")
)

// seqOf reads i from a stream message []any{:msg, i}.
func seqOf(m any) (int, bool) {
	t, ok := m.([]any)
	if !ok || len(t) != 2 || t[0] != atomMsg {
		return 0, false
	}
	switch i := t[1].(type) {
	case int64:
		return int(i), true
	case int:
		return i, true
	}
	return 0, false
}

// asInt reads a number that may have crossed the wire.
func asInt(v any) int {
	switch i := v.(type) {
	case int64:
		return int(i)
	case int:
		return i
	}
	return -1
}

// seqCheck is a sink's account of the numbers it got.
type seqCheck struct {
	received int      // messages taken
	last     int      // the highest number taken
	bad      int      // numbers not above the one before: duplicated or reordered
	first    string   // the first bad one
	gaps     int      // runs of numbers missing
	gapList  []string // the first few runs, "from-to"
}

func (s *seqCheck) add(i int) {
	s.received++
	if i <= s.last {
		s.bad++
		if s.first == "" {
			s.first = fmt.Sprintf("got %d after %d (duplicated or reordered)", i, s.last)
		}
		return
	}
	if i > s.last+1 {
		s.gaps++
		if len(s.gapList) < 8 {
			s.gapList = append(s.gapList, fmt.Sprintf("%d-%d", s.last+1, i-1))
		}
	}
	s.last = i
}

// seqReport is what a sink answers to []any{:report, replyTo, final}.
type seqReport struct {
	Sink                      proc.Pid
	Received, Last, Bad, Gaps int
	First, GapList            string
}

func (r seqReport) String() string {
	return fmt.Sprintf("received %d, last %d, %d gaps [%s], %d duplicated or reordered %s",
		r.Received, r.Last, r.Gaps, r.GapList, r.Bad, r.First)
}

// seqSinkLoop is a sink: it checks the stream messages it gets and answers
// reports; a final report ends it.
func seqSinkLoop(ctx context.Context, p *proc.Process) error {
	var s seqCheck
	for {
		m, err := p.Receive(ctx)
		if err != nil {
			return err
		}
		if i, ok := seqOf(m); ok {
			s.add(i)
			continue
		}
		t, ok := m.([]any)
		if !ok || len(t) != 3 || t[0] != atomReport {
			continue
		}
		to, _ := t[1].(proc.Pid)
		_ = p.Send(to, []any{atomSeqReport, p.Pid(), s.received, s.last, s.bad, s.gaps, s.first, strings.Join(s.gapList, " ")})
		if t[2] == true {
			return nil
		}
	}
}

// askSeqReport asks sink for its report, as me; final ends the sink.
func askSeqReport(t testing.TB, me *proc.Process, sink proc.Pid, final bool) seqReport {
	t.Helper()
	if err := me.Send(sink, []any{atomReport, me.Pid(), final}); err != nil {
		t.Fatalf("asking %v for its report: %v", sink, err)
	}
	m, err := me.ReceiveMatchTimeout(waitTime, func(m any) bool {
		r, ok := m.([]any)
		return ok && len(r) == 8 && r[0] == atomSeqReport && r[1] == sink
	})
	if err != nil {
		t.Fatalf("no report from sink %v: %v", sink, err)
	}
	r := m.([]any)
	first, _ := r[6].(string)
	gaps, _ := r[7].(string)
	return seqReport{Sink: sink, Received: asInt(r[2]), Last: asInt(r[3]), Bad: asInt(r[4]), Gaps: asInt(r[5]), First: first, GapList: gaps}
}

// waitSeqReport asks sink for reports until cond holds, and returns the
// report that met it.
func waitSeqReport(t testing.TB, me *proc.Process, sink proc.Pid, what string, cond func(seqReport) bool) seqReport {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for {
		r := askSeqReport(t, me, sink, false)
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: sink %v", what, r)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition under a deadline
	}
}

// seqSourceLoop is a source: it sends to `to` the stream 1, 2, ..., batch
// messages at a time with a pause between batches (0: none), until it
// gets []any{:stop, replyTo}; it answers []any{:stopped, last, failed},
// failed the sends that returned an error. sent, if not nil, counts.
func seqSourceLoop(p *proc.Process, to proc.Pid, batch int, pause time.Duration, sent *atomic.Int64) error {
	i, failed := 0, 0
	for {
		for range batch {
			i++
			if err := p.Send(to, []any{atomMsg, int64(i)}); err != nil {
				failed++
			}
		}
		if sent != nil {
			sent.Store(int64(i))
		}
		m, err := p.ReceiveTimeout(pause)
		if err != nil {
			if errors.Is(err, proc.ErrTimeout) {
				continue
			}
			return err
		}
		if t, ok := m.([]any); ok && len(t) == 2 && t[0] == atomStop {
			replyTo, _ := t[1].(proc.Pid)
			return p.Send(replyTo, []any{atomStopped, p.Pid(), int64(i), int64(failed)})
		}
	}
}

// stopSource stops a source and returns the last number it sent and how
// many sends failed.
func stopSource(t testing.TB, me *proc.Process, src proc.Pid) (last, failed int) {
	t.Helper()
	if err := me.Send(src, []any{atomStop, me.Pid()}); err != nil {
		t.Fatalf("stopping source %v: %v", src, err)
	}
	m, err := me.ReceiveMatchTimeout(waitTime, func(m any) bool {
		r, ok := m.([]any)
		return ok && len(r) == 4 && r[0] == atomStopped && r[1] == src
	})
	if err != nil {
		t.Fatalf("source %v did not stop: %v", src, err)
	}
	r := m.([]any)
	return asInt(r[2]), asInt(r[3])
}

// nodeStats are a node's own figures: goroutines, heap in use after a
// garbage collection, and processes.
type nodeStats struct {
	Goroutines, Heap, Procs int
}

func (s nodeStats) String() string {
	return fmt.Sprintf("%d goroutines, %.1f MiB heap, %d processes", s.Goroutines, float64(s.Heap)/(1<<20), s.Procs)
}

func statsOf(n *Node) nodeStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return nodeStats{Goroutines: runtime.NumGoroutine(), Heap: int(ms.HeapInuse), Procs: n.Proc().Count()}
}

// peerStats asks a peer process for its figures.
func peerStats(t testing.TB, from *Node, peer string) nodeStats {
	t.Helper()
	v, err := from.RPC(ctx(t), peer, "peer.Stats")
	if err != nil {
		t.Fatalf("peer.Stats on %s: %v", peer, err)
	}
	l, ok := v.([]any)
	if !ok || len(l) != 3 {
		t.Fatalf("peer.Stats on %s: %#v", peer, v)
	}
	return nodeStats{Goroutines: asInt(l[0]), Heap: asInt(l[1]), Procs: asInt(l[2])}
}

// nodeEvents is what a peer's "watch_nodes" process saw: one entry
// []any{"up" or "down", node, reason, unix nanoseconds} per event.
var nodeEvents struct {
	mu      sync.Mutex
	started bool
	list    []any
}

// registerFaultFuncs adds to a peer's functions those of the fault suite.
func registerFaultFuncs(f *Funcs, node func() *Node) {
	// peer.Stats: the peer's own figures, []any{goroutines, heap, processes}.
	must(f.Register("peer.Stats", func() []any {
		s := statsOf(node())
		return []any{s.Goroutines, s.Heap, s.Procs}
	}))
	must(f.Register("seq_sink", func(ctx context.Context) error {
		p, _, _ := ProcessFrom(ctx)
		return seqSinkLoop(ctx, p)
	}))
	must(f.Register("seq_source", func(ctx context.Context, to proc.Pid, batch, pauseMicros int) error {
		p, _, _ := ProcessFrom(ctx)
		return seqSourceLoop(p, to, batch, time.Duration(pauseMicros)*time.Microsecond, nil)
	}))
	must(f.Register("disconnect", func(name string) bool { return node().Disconnect(name) }))
	// watch_nodes starts recording the node's nodeups and nodedowns, with
	// the time each was seen, for node_events to return.
	must(f.Register("watch_nodes", func() error {
		nodeEvents.mu.Lock()
		defer nodeEvents.mu.Unlock()
		if nodeEvents.started {
			return nil
		}
		n := node()
		pid, err := n.Proc().Spawn(func(p *proc.Process) {
			for {
				m, err := p.Receive(nil)
				if err != nil {
					return
				}
				now := time.Now().UnixNano()
				var e []any
				switch m := m.(type) {
				case NodeUp:
					e = []any{"up", m.Node, "", now}
				case NodeDown:
					e = []any{"down", m.Node, m.Reason, now}
				default:
					continue
				}
				nodeEvents.mu.Lock()
				nodeEvents.list = append(nodeEvents.list, e)
				nodeEvents.mu.Unlock()
			}
		})
		if err != nil {
			return err
		}
		n.MonitorNodes(pid, true, true)
		nodeEvents.started = true
		return nil
	}))
	must(f.Register("node_events", func() []any {
		nodeEvents.mu.Lock()
		defer nodeEvents.mu.Unlock()
		return append([]any(nil), nodeEvents.list...)
	}))
}

// nodeEvent is one entry of node_events.
type nodeEvent struct {
	Kind, Node, Reason string
	At                 time.Time
}

// peerNodeEvents asks a peer for the node events it recorded.
func peerNodeEvents(t testing.TB, from *Node, peer string) []nodeEvent {
	t.Helper()
	v, err := from.RPC(ctx(t), peer, "node_events")
	if err != nil {
		t.Fatalf("node_events on %s: %v", peer, err)
	}
	l, _ := v.([]any)
	var out []nodeEvent
	for _, e := range l {
		f, ok := e.([]any)
		if !ok || len(f) != 4 {
			t.Fatalf("node_events on %s: %#v", peer, e)
		}
		kind, _ := f[0].(string)
		node, _ := f[1].(string)
		reason, _ := f[2].(string)
		ns, _ := f[3].(int)
		out = append(out, nodeEvent{kind, node, reason, time.Unix(0, int64(ns))})
	}
	return out
}

// waitPeerNodeEvent waits until peer has recorded an event of kind about
// node after since, and returns it.
func waitPeerNodeEvent(t testing.TB, from *Node, peer, kind, node string, since time.Time) nodeEvent {
	t.Helper()
	var found nodeEvent
	eventually(t, fmt.Sprintf("%s to see %s %s", peer, node, kind), func() bool {
		for _, e := range peerNodeEvents(t, from, peer) {
			if e.Kind == kind && e.Node == node && e.At.After(since) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

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
