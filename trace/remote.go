package trace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// Remote traces. Protocol flow: the tracing node A calls fnStart on the
// traced process's node B (an rpc) with A's collector, the trace's id,
// the pid and the options. B traces the process as for a local caller,
// its sink sending each event to A's collector as an eventTag tuple; A's
// collector hands it to the trace waiting there under that id. A's Stop
// calls fnStop on B. B stops the trace at its rate limit (sending the
// Stopped event, which ends A's side too), when the process exits, and
// when A goes down; A ends its side when B goes down.

// The functions a tracer serving peers registers (Config.Funcs).
const (
	fnStart    = "gonode_trace.start"
	fnStop     = "gonode_trace.stop"
	fnGetState = "gonode_trace.getState"
	fnWhereis  = "gonode_trace.whereis"
)

// eventTag marks an event sent to a collector:
// [eventTag, id, kind, unixNano, node, pid, to, toName, msg, text].
const eventTag = proc.Atom("gonode_trace_event")

// stopTimeout bounds Stop's request to the traced process's node.
const stopTimeout = 3 * time.Second

// getStateTimeout bounds the server's answer to a peer's getState.
const getStateTimeout = 5 * time.Second

func (t *Tracer) serve(f *dist.Funcs) error {
	for name, fn := range map[string]any{fnStart: t.serveStart, fnStop: t.serveStop, fnGetState: t.serveGetState, fnWhereis: t.serveWhereis} {
		if err := f.Register(name, fn); err != nil {
			return fmt.Errorf("trace: %w", err)
		}
	}
	return nil
}

// serveStart traces pid here for the collector of another node.
func (t *Tracer) serveStart(collector proc.Pid, id proc.Ref, pid proc.Pid, max int, perMs int64, show int) error {
	tr, err := t.newTrace(Options{Max: max, Per: time.Duration(perMs) * time.Millisecond, Show: Show(show),
		Sink: func(ev Event) { t.sendEvent(collector, id, ev) }})
	if err != nil {
		return err
	}
	tr.id, tr.caller = id, collector
	pid = t.node.Resolve(pid) // keyed as proc's events name it
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.watchLocked(tr, pid)
}

// serveStop ends a trace another node asked for, once its events so far
// are sent (see Stop).
func (t *Tracer) serveStop(id proc.Ref) {
	t.mu.Lock()
	if tr := t.byID[id]; tr != nil {
		t.stopLocked(tr)
	}
	t.mu.Unlock()
	t.flush()
}

// collectorFlush is the message flushCollector sends the collector:
// closed once what came before it has been queued.
type collectorFlush chan struct{}

// flushCollector waits until the collector has queued the events in its
// mailbox, or ctx ends.
func (t *Tracer) flushCollector(ctx context.Context) {
	done := make(collectorFlush)
	if t.node.Send(t.collector, done) != nil {
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func (t *Tracer) serveGetState(pid proc.Pid) (any, error) {
	p, err := t.node.Attach(proc.SpawnOptions{Label: "trace: getState for a peer"})
	if err != nil {
		return nil, err
	}
	defer p.Exit(proc.Normal)
	return otp.GetState(p, pid, getStateTimeout)
}

func (t *Tracer) serveWhereis(name string) (proc.Pid, error) {
	if pid, ok := t.node.Whereis(name); ok {
		return pid, nil
	}
	return proc.Pid{}, fmt.Errorf("no process is registered as %q on %s", name, t.node.Name())
}

// Whereis returns the pid registered as name on this node or, through
// its tracer, on another: what trace and getState are given as
// {name, node}.
func (t *Tracer) Whereis(ctx context.Context, name proc.Name) (proc.Pid, error) {
	if name.Node == "" || name.Node == t.node.Name() {
		return t.serveWhereis(name.Name)
	}
	if t.cfg.Dist == nil {
		return proc.Pid{}, fmt.Errorf("%s on %s: this node is not distributed", name.Name, name.Node)
	}
	v, err := t.cfg.Dist.RPC(ctx, name.Node, fnWhereis, name.Name)
	if err != nil {
		if errors.Is(err, dist.ErrUndef) {
			return proc.Pid{}, fmt.Errorf("%s on %s: that node serves no traces (it was not started by gonode)", name.Name, name.Node)
		}
		return proc.Pid{}, err
	}
	pid, ok := v.(proc.Pid)
	if !ok {
		return proc.Pid{}, fmt.Errorf("%s on %s: answered %v", name.Name, name.Node, v)
	}
	return pid, nil
}

// sendEvent sends ev to a remote collector. A message that cannot cross
// (a channel, a function) crosses as the text this node prints for it.
func (t *Tracer) sendEvent(collector proc.Pid, id proc.Ref, ev Event) {
	text := ""
	if ev.Kind != Stopped && ev.Kind != Dropped {
		text = t.cfg.Format(ev.Msg)
	}
	m := []any{eventTag, id, int64(ev.Kind), ev.Time.UnixNano(), ev.Node, ev.Pid, ev.To, ev.ToName, ev.Msg, text}
	if err := t.node.Send(collector, m); err != nil && !errors.Is(err, dist.ErrNodeDown) {
		m[8] = nil
		_ = t.node.Send(collector, m)
	}
}

// isTraceEvent reports whether a message is a remote trace's event.
func isTraceEvent(m any) bool {
	a, ok := m.([]any)
	return ok && len(a) == 10 && a[0] == eventTag
}

// remoteProcess starts tr on pid's node and waits there for its events.
func (t *Tracer) remoteProcess(ctx context.Context, tr *Trace, pid proc.Pid, o Options) (*Trace, error) {
	if t.cfg.Dist == nil {
		return nil, fmt.Errorf("trace %v: this node is not distributed", pid)
	}
	max, per := tr.limit.max, tr.limit.per
	tr.remote = pid
	tr.limit = limiter{} // the traced process's node applies it
	t.mu.Lock()
	err := t.addLocked(tr)
	if err == nil {
		for _, old := range t.byID {
			if old != tr && samePid(old.remote, pid) {
				t.stopLocked(old) // the other node gives the process to the new trace
			}
		}
	}
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	_, err = t.cfg.Dist.RPC(ctx, pid.Node, fnStart, t.collector, tr.id, pid, max, per.Milliseconds(), int(o.Show))
	if err != nil {
		t.mu.Lock()
		t.stopLocked(tr)
		t.mu.Unlock()
		if errors.Is(err, dist.ErrUndef) {
			return nil, fmt.Errorf("trace %v: %s serves no traces (it was not started by gonode)", pid, pid.Node)
		}
		return nil, fmt.Errorf("trace %v: %w", pid, err)
	}
	return tr, nil
}

// collect is the collector process: remote traces' events, and node down
// notices, which end the traces that crossed to that node.
func (t *Tracer) collect(_ *proc.Process, msg any) {
	switch m := msg.(type) {
	case collectorFlush:
		close(m)
	case dist.NodeDown:
		t.nodeDown(m.Node)
	case []any:
		if isTraceEvent(m) {
			t.remoteEvent(m)
		}
	}
}

func (t *Tracer) remoteEvent(m []any) {
	id, _ := m[1].(proc.Ref)
	ev := Event{Kind: Kind(asInt(m[2])), Time: time.Unix(0, asInt(m[3])), Msg: m[8]}
	ev.Node, _ = m[4].(string)
	ev.Pid, _ = m[5].(proc.Pid)
	ev.To, _ = m[6].(proc.Pid)
	ev.ToName, _ = m[7].(string)
	ev.Text, _ = m[9].(string)
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.byID[id]
	if tr == nil {
		return // stopped here meanwhile: its stop is on its way there
	}
	t.enqueueLocked(tr, ev)
	if ev.Kind == Stopped || ev.Kind == Exited && samePid(ev.Pid, tr.remote) {
		t.stopLocked(tr) // the other side has ended it
	}
}

// asInt reads an integer whatever width the codec gave it.
func asInt(v any) int64 {
	switch v := v.(type) {
	case int:
		return int64(v)
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case int64:
		return v
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case uint64:
		return int64(v)
	}
	return 0
}

// samePid compares pids ignoring a creation left 0 by a parsed pid.
func samePid(a, b proc.Pid) bool {
	return a.Node == b.Node && a.ID == b.ID && a.Serial == b.Serial
}

// nodeDown ends the traces another node asked for, and the traces of
// processes there, telling their sinks.
func (t *Tracer) nodeDown(node string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tr := range t.byID {
		switch {
		case tr.caller.Node == node:
			t.stopLocked(tr)
		case tr.remote.Node == node:
			t.stopLocked(tr)
			t.enqueueLocked(tr, Event{Kind: Stopped, Time: time.Now(), Node: t.node.Name(), Msg: "node " + node + " is down"})
		}
	}
}

// GetState returns the state of the server pid, on this node or another
// (sys:get_state); p is the calling process. A process that is not a
// server gives an error wrapping otp.ErrNotServer here, and one saying so
// from another node.
func (t *Tracer) GetState(ctx context.Context, p *proc.Process, pid proc.Pid) (any, error) {
	pid = t.node.Resolve(pid)
	if t.node.IsLocal(pid) {
		return otp.GetState(p, pid, getStateTimeout)
	}
	if t.cfg.Dist == nil {
		return nil, fmt.Errorf("get state of %v: this node is not distributed", pid)
	}
	v, err := t.cfg.Dist.RPC(ctx, pid.Node, fnGetState, pid)
	if errors.Is(err, dist.ErrUndef) {
		return nil, fmt.Errorf("get state of %v: %s serves no getState (it was not started by gonode)", pid, pid.Node)
	}
	return v, err
}
