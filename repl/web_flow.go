package repl

import (
	"cmp"
	"sync"

	"github.com/gonode/gonode/trace"
	"github.com/gonode/gonode/web"
)

// The web view's message flow: while the view runs it subscribes to the
// node's tracer and keeps the last web.MaxFlow events, whichever trace
// they come from (the page's trace button, or trace() and traceNode() in
// a shell). Traces the page started are stopped with the view.

// flowLog is the recent trace events. Safe for concurrent use.
type flowLog struct {
	mu     sync.Mutex
	events []web.Flow     // guarded by mu: oldest first, at most web.MaxFlow
	traces []*trace.Trace // guarded by mu: those the page started
	cancel func()         // ends the subscription
}

// startFlow subscribes to the node's tracer; nil if the node runs none.
func startFlow(t *trace.Tracer) *flowLog {
	if t == nil {
		return nil
	}
	f := &flowLog{}
	f.cancel = t.Subscribe(f.add)
	return f
}

// add keeps one event; it runs on the tracer's goroutine, so it only
// formats and appends.
func (f *flowLog) add(ev trace.Event) {
	fl := web.Flow{Time: ev.Time, Text: ev.Line(formatTraced)}
	switch ev.Kind {
	case trace.Sent:
		fl.Kind, fl.From, fl.To = "sent", ev.Pid.String(), cmp.Or(ev.ToName, ev.To.String())
	case trace.Received:
		fl.Kind, fl.To = "received", ev.Pid.String()
	case trace.Exited:
		fl.Kind, fl.From = "exited", ev.Pid.String()
	case trace.NodeSent:
		fl.Kind, fl.From, fl.To = "node sent", ev.Node, ev.Peer
	case trace.NodeReceived:
		fl.Kind, fl.From, fl.To = "node received", ev.Peer, ev.Node
	case trace.Stopped:
		fl.Kind = "stopped"
	case trace.Dropped:
		fl.Kind = "dropped"
	}
	f.mu.Lock()
	if len(f.events) == web.MaxFlow {
		copy(f.events, f.events[1:])
		f.events = f.events[:web.MaxFlow-1]
	}
	f.events = append(f.events, fl)
	f.mu.Unlock()
}

// recent returns a copy of the events kept.
func (f *flowLog) recent() []web.Flow {
	if f == nil {
		return []web.Flow{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]web.Flow{}, f.events...)
}

// keep records a trace the page started, forgetting those that ended.
func (f *flowLog) keep(tr *trace.Trace) {
	f.mu.Lock()
	defer f.mu.Unlock()
	kept := f.traces[:0]
	for _, old := range f.traces {
		if !old.Done() {
			kept = append(kept, old)
		}
	}
	f.traces = append(kept, tr)
}

// stop ends the subscription and the traces the page started.
func (f *flowLog) stop() {
	if f == nil {
		return
	}
	f.cancel()
	f.mu.Lock()
	traces := f.traces
	f.traces = nil
	f.mu.Unlock()
	for _, tr := range traces {
		tr.Stop()
	}
}
