package repl

import (
	"fmt"
	"sync"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/format"
	"github.com/gonode/gonode/trace"
)

// Tracing from the shell (trace, traceNode, untrace, getState): the node's
// tracer (package trace) is started with the node and shared by every
// shell on it, a remote shell's included; each shell keeps the traces it
// started, so that untrace() stops its own, and prints their events where
// processes print (above the prompt; in a remote shell, on its terminal).

// tracing is a shell's part in tracing.
type tracing struct {
	own *trace.Tracer // the node's tracer, if this runtime started it (and closes it)

	mu     sync.Mutex
	traces []*trace.Trace // guarded by mu: the traces this shell started
}

// TraceOpt limits a trace: at most Max events within Per, or Max in all
// with Per 0 (traceLimit).
type TraceOpt struct {
	Max int
	Per time.Duration
}

// TraceLimit is traceLimit(n, per).
func TraceLimit(n int, per time.Duration) TraceOpt { return TraceOpt{Max: n, Per: per} }

// startTracer starts the node's tracer; funcs (nil for a node without
// distribution) gets the functions peers call to trace here.
func (rt *Runtime) startTracer(funcs *dist.Funcs) error {
	t, err := trace.Start(trace.Config{Node: rt.node, Dist: rt.dist, Funcs: funcs, Format: formatTraced})
	if err != nil {
		return err
	}
	rt.tracing.own = t
	return nil
}

// close stops the node's tracer if this runtime started it.
func (s *tracing) close() {
	if s.own != nil {
		s.own.Close()
	}
}

// formatTraced prints a traced message as the shell prints values.
func formatTraced(v any) string { return format.Value(v) }

// tracer returns the node's tracer.
func (x *Proc) tracer() *trace.Tracer {
	t := trace.Of(x.rt.node)
	if t == nil {
		fail("this node runs no tracer")
	}
	return t
}

// traceOptions reads trace's options: traceLimit(n, per) and the events
// to show, "sends", "receives", "exits".
func traceOptions(what string, opts []any) trace.Options {
	var o trace.Options
	for _, opt := range opts {
		switch v := opt.(type) {
		case TraceOpt:
			if v.Max <= 0 || v.Per < 0 {
				fail("%s: traceLimit(n, per) wants n > 0 and per >= 0, got %d, %v", what, v.Max, v.Per)
			}
			o.Max, o.Per = v.Max, v.Per
		case string:
			show, ok := map[string]trace.Show{"sends": trace.Sends, "receives": trace.Receives, "exits": trace.Exits}[v]
			if !ok {
				fail("%s: unknown option %q: want traceLimit(n, per), \"sends\", \"receives\" or \"exits\"", what, v)
			}
			o.Show |= show
		default:
			fail("%s: unknown option %v: want traceLimit(n, per), \"sends\", \"receives\" or \"exits\"", what, opt)
		}
	}
	return o
}

// sink prints a trace's events where the shell's processes print.
func (x *Proc) sink(ev trace.Event) { fmt.Fprintln(x.rt.async, ev.Line(formatTraced)) }

// keep records a trace as this shell's, forgetting those that ended.
func (x *Proc) keep(tr *trace.Trace) {
	s := &x.rt.tracing
	s.mu.Lock()
	kept := s.traces[:0]
	for _, old := range s.traces {
		if !old.Done() {
			kept = append(kept, old)
		}
	}
	s.traces = append(kept, tr)
	s.mu.Unlock()
}

// tracedPid resolves what trace and getState are given: a Pid, a name
// registered here, or at(name, node).
func (x *Proc) tracedPid(what string, target any) proc.Pid {
	var name proc.Name
	switch v := target.(type) {
	case proc.Pid:
		return v
	case string:
		name = proc.Name{Name: v}
	case proc.Name:
		name = v
	default:
		fail("%s: want a pid, a registered name or at(name, node), got %s", what, format.Value(target))
	}
	pid, err := x.tracer().Whereis(x.ctx(), name)
	x.check(err, what)
	return pid
}

// stopAll stops the shell's traces: a remote shell's session ends.
func (s *tracing) stopAll() {
	s.mu.Lock()
	all := s.traces
	s.traces = nil
	s.mu.Unlock()
	for _, tr := range all {
		tr.Stop()
	}
}

// Trace prints the messages a process sends and receives and its exit,
// until untrace() or the rate limit (trace.DefaultMax a second unless
// traceLimit says otherwise). target is a Pid, of any node, a name
// registered here, or at(name, node).
func (x *Proc) Trace(target any, opts ...any) bool {
	pid := x.tracedPid("trace", target)
	o := traceOptions("trace", opts)
	o.Sink = x.sink
	tr, err := x.tracer().Process(x.ctx(), pid, o)
	x.check(err, "trace")
	x.keep(tr)
	return true
}

// serviceNames are the registered names of the services every gonode
// node runs (cluster.go, dist/erlang): traceNode hides the messages to
// them, which come every half second, unless asked for "all".
var serviceNames = []string{"global_name_server", "net_kernel", "pg", "placement_load", "rex"}

// TraceNode prints every message between this node and node, both ways,
// but the services' own ("all" shows those too).
func (x *Proc) TraceNode(node string, opts ...any) bool {
	x.needDist()
	all := false
	var rest []any
	for _, o := range opts {
		if o == "all" {
			all = true
		} else {
			rest = append(rest, o)
		}
	}
	o := traceOptions("traceNode", rest)
	if o.Show != 0 {
		fail("traceNode shows every message: it takes traceLimit(n, per) and \"all\" only")
	}
	if !all {
		o.HideNames = serviceNames
	}
	o.Sink = x.sink
	tr, err := x.tracer().Peer(node, o)
	x.check(err, "traceNode")
	x.keep(tr)
	return true
}

// Untrace stops the traces this shell started, all of them or those of
// the targets given (pids, node names); it reports whether one ran.
// It returns once the lines that came before it are printed.
func (x *Proc) Untrace(targets ...any) bool {
	s := &x.rt.tracing
	s.mu.Lock()
	var stop, kept []*trace.Trace
	for _, tr := range s.traces {
		if len(targets) == 0 || matchesTarget(tr.Target(), targets) {
			stop = append(stop, tr)
		} else {
			kept = append(kept, tr)
		}
	}
	s.traces = kept
	s.mu.Unlock()
	any := false
	for _, tr := range stop {
		any = any || !tr.Done()
		tr.Stop()
	}
	return any
}

func matchesTarget(t any, targets []any) bool {
	for _, want := range targets {
		if p, ok := want.(proc.Pid); ok {
			if q, ok := t.(proc.Pid); ok && p.Node == q.Node && p.ID == q.ID && p.Serial == q.Serial {
				return true
			}
		} else if want == t {
			return true
		}
	}
	return false
}

// GetState returns the state of a server (sys:get_state), on any node:
// server is a Pid, a name registered here, or at(name, node).
func (x *Proc) GetState(server any) any {
	pid := x.tracedPid("getState", server)
	st, err := x.tracer().GetState(x.ctx(), x.proc(), pid)
	x.check(err, "getState")
	return st
}
