// Package trace shows what a running node does, for debugging it live:
// the messages a process sends and receives and its exit (through proc's
// tracer hook), on this node or another, and a node's traffic to a peer
// (through dist's traffic tracer), each trace under recon_trace's rate
// limit, which stops the trace when it sees too much; and sys:get_state
// for servers, on any node. It prints nothing itself: events go to each
// trace's sink and to subscribers (the shell, a web view).
package trace

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// Config says what a Tracer traces and how it reaches other nodes.
type Config struct {
	Node *proc.Node
	// Dist is the node's distribution, nil when it has none: then there
	// are no remote traces and no node traffic.
	Dist *dist.Node
	// Funcs is where the functions peers call to trace here are
	// registered (the names in remote.go); nil: peers cannot trace here.
	Funcs *dist.Funcs
	// Format prints messages and reasons in events of this node sent to
	// a remote tracer, whose message values may not cross (default
	// proc.FormatReason).
	Format func(any) string
}

// queueLen bounds the events waiting for the tracer's goroutine. The rate
// limit keeps a trace well below it; past it events are dropped and the
// next event of the trace says how many.
const queueLen = 4096

// Tracer is one node's tracer: it owns the traces running on the node,
// those that other nodes asked for, and one goroutine that hands events to
// sinks and subscribers. All methods are safe for concurrent use.
type Tracer struct {
	cfg       Config
	node      *proc.Node
	collector proc.Pid // receives the events of this node's traces of remote processes

	mu     sync.Mutex
	procs  map[proc.Pid]*Trace // guarded by mu: the traced local processes
	peers  map[string]*Trace   // guarded by mu: the peers whose traffic is traced
	byID   map[proc.Ref]*Trace // guarded by mu: every running trace
	subs   map[int]func(Event) // guarded by mu
	nextID int                 // guarded by mu
	closed bool                // guarded by mu

	queue chan queued
	done  chan struct{} // closed by Close: the goroutine ends
	wg    sync.WaitGroup
}

type queued struct {
	tr    *Trace
	ev    Event
	flush chan struct{} // set instead of tr: closed when reached (flush)
}

// flushTimeout bounds a flush's wait: a sink stuck on a slow writer must
// not hang untrace.
const flushTimeout = 2 * time.Second

// flush waits until the events queued before it have been handed out.
func (t *Tracer) flush() {
	done := make(chan struct{})
	timer := time.NewTimer(flushTimeout)
	defer timer.Stop()
	select {
	case t.queue <- queued{flush: done}:
	case <-t.done:
		return
	case <-timer.C:
		return
	}
	select {
	case <-done:
	case <-t.done:
	case <-timer.C:
	}
}

// ErrClosed is the error of a trace asked of a closed tracer.
var ErrClosed = errors.New("trace: the tracer is closed")

// Start makes the node's tracer and installs it: proc's hook and the
// functions peers call (dist's traffic tracer only while a peer is
// traced). Close undoes all that.
func Start(cfg Config) (*Tracer, error) {
	if cfg.Format == nil {
		cfg.Format = proc.FormatReason
	}
	t := &Tracer{cfg: cfg, node: cfg.Node, procs: map[proc.Pid]*Trace{}, peers: map[string]*Trace{},
		byID: map[proc.Ref]*Trace{}, subs: map[int]func(Event){}, queue: make(chan queued, queueLen), done: make(chan struct{})}
	if cfg.Dist != nil {
		c, err := cfg.Node.SpawnHandler(t.collect, proc.SpawnOptions{Label: "trace: events of remote traces"})
		if err != nil {
			return nil, fmt.Errorf("trace: %w", err)
		}
		t.collector = c
		cfg.Dist.MonitorNodes(c, true, true) // a node that goes takes its traces with it
		if cfg.Funcs != nil {
			if err := t.serve(cfg.Funcs); err != nil {
				_ = cfg.Node.Exit(c, proc.Kill)
				return nil, err
			}
		}
	}
	cfg.Node.SetTracer(t)
	t.wg.Add(1)
	go t.run()
	return t, nil
}

// Of returns the tracer Start installed on n, or nil: the shells that
// share a node share its tracer.
func Of(n *proc.Node) *Tracer {
	t, _ := n.Tracer().(*Tracer)
	return t
}

// Close stops every trace, uninstalls the tracer and waits for its
// goroutine. Events not yet handed out are dropped. Idempotent.
func (t *Tracer) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	var all []*Trace
	for _, tr := range t.byID {
		all = append(all, tr)
	}
	t.mu.Unlock()
	for _, tr := range all {
		tr.Stop()
	}
	if t.node.Tracer() == t {
		t.node.SetTracer(nil)
	}
	if t.cfg.Dist != nil {
		t.cfg.Dist.SetTrafficTracer(nil)
		_ = t.node.Exit(t.collector, proc.Kill)
	}
	close(t.done)
	t.wg.Wait()
}

// Subscribe calls f with every event of every trace of this tracer, on
// the tracer's goroutine (f must not block), until cancel is called.
func (t *Tracer) Subscribe(f func(Event)) (cancel func()) {
	t.mu.Lock()
	id := t.nextID
	t.nextID++
	t.subs[id] = f
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		delete(t.subs, id)
		t.mu.Unlock()
	}
}

// run hands queued events to their trace's sink and to the subscribers.
func (t *Tracer) run() {
	defer t.wg.Done()
	for {
		select {
		case q := <-t.queue:
			if q.flush != nil {
				close(q.flush)
				continue
			}
			t.hand(q)
		case <-t.done:
			return
		}
	}
}

func (t *Tracer) hand(q queued) {
	t.mu.Lock()
	subs := make([]func(Event), 0, len(t.subs))
	for _, f := range t.subs {
		subs = append(subs, f)
	}
	dropped := q.tr.dropped
	q.tr.dropped = 0
	t.mu.Unlock()
	if dropped > 0 {
		q.tr.sink(Event{Kind: Dropped, Time: q.ev.Time, Node: q.ev.Node, Msg: dropped})
	}
	q.tr.sink(q.ev)
	for _, f := range subs {
		f(q.ev)
	}
}

// enqueueLocked queues ev for tr's sink without waiting (t.mu held).
func (t *Tracer) enqueueLocked(tr *Trace, ev Event) {
	select {
	case t.queue <- queued{tr: tr, ev: ev}:
	default:
		tr.dropped++
	}
}

// Trace implements proc.Tracer: the event of a traced local process.
func (t *Tracer) Trace(e proc.TraceEvent) {
	kind := [...]Kind{proc.TraceSend: Sent, proc.TraceReceive: Received, proc.TraceExit: Exited}[e.Kind]
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.procs[e.Pid]
	if tr == nil {
		return
	}
	if kind == Exited {
		delete(t.procs, e.Pid) // proc cleared the mark: nothing follows
	}
	if tr.shows(kind) {
		ev := Event{Kind: kind, Time: time.Now(), Node: t.node.Name(), Pid: e.Pid, To: e.To, ToName: e.ToName.Name, Msg: e.Msg}
		if e.ToName.Node != "" && e.ToName.Node != t.node.Name() {
			ev.ToName = e.ToName.Name + " on " + e.ToName.Node
		}
		t.countLocked(tr, ev)
	}
	if kind == Exited && !tr.stopped {
		tr.dropPidLocked(e.Pid)
	}
}

// traffic is dist's traffic tracer: a message to or from a peer.
func (t *Tracer) traffic(peer string, sent bool, m dist.Message) {
	if !shownKind(m.Kind) || isTraceEvent(m.Payload) {
		return // the tracer's own events to a remote shell would trace themselves
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.peers[peer]
	if tr == nil || m.ToName != "" && tr.hide[m.ToName] {
		return
	}
	t.countLocked(tr, trafficEvent(t.node.Name(), peer, sent, &m))
}

// countLocked applies tr's rate limit to ev and queues it, or stops tr
// (t.mu held).
func (t *Tracer) countLocked(tr *Trace, ev Event) {
	if why := tr.limit.count(ev.Time); why != "" {
		t.stopLocked(tr)
		t.enqueueLocked(tr, Event{Kind: Stopped, Time: ev.Time, Node: t.node.Name(), Msg: why})
		return
	}
	t.enqueueLocked(tr, ev)
}
