package proc

import "fmt"

// Tracing, as Erlang's erlang:trace/3 with the send, 'receive' and procs
// flags: a process marked traced (Node.Trace) reports the messages it
// sends, the messages put in its mailbox, and its exit to the node's
// Tracer. The mark is a bit of the word every send already loads
// (Process.flags), so that tracing costs untraced processes nothing and
// tracing one process does not slow the others; the tracer itself is read
// only when a traced process has something to report.

// Bits of Process.flags.
const (
	flagDying  uint32 = 1 << iota // set with dead
	flagTraced                    // events go to the node's Tracer
)

// TraceKind says what a TraceEvent reports.
type TraceKind uint8

const (
	TraceSend    TraceKind = iota + 1 // Pid sent Msg to To (or ToName)
	TraceReceive                      // Msg was put in Pid's mailbox
	TraceExit                         // Pid exited with reason Msg
)

var traceKindNames = [...]string{"", "send", "receive", "exit"}

func (k TraceKind) String() string {
	if k != 0 && int(k) < len(traceKindNames) {
		return traceKindNames[k]
	}
	return fmt.Sprintf("trace(%d)", uint8(k))
}

// TraceEvent is one event of a traced process.
type TraceEvent struct {
	Kind   TraceKind
	Pid    Pid  // the traced process
	To     Pid  // TraceSend: the receiver, zero when sent to a name
	ToName Name // TraceSend to a registered name
	Msg    any  // the message, or the exit reason
}

// Tracer receives the events of a node's traced processes. Trace is
// called on the goroutine where the event happens (the sender's, the
// deliverer's, the dying process's or its killer's), in the order of
// events on that goroutine: it must return quickly and must not block on
// the traced process. It may call Node.Trace, to stop a trace.
type Tracer interface {
	Trace(e TraceEvent)
}

type tracerBox struct{ t Tracer }

// SetTracer installs the tracer of this node's traced processes (nil
// removes it; the processes stay marked and report nothing).
func (n *Node) SetTracer(t Tracer) {
	if t == nil {
		n.tracer.Store(nil)
		return
	}
	n.tracer.Store(&tracerBox{t})
}

// Tracer returns the installed tracer, or nil.
func (n *Node) Tracer() Tracer {
	if b := n.tracer.Load(); b != nil {
		return b.t
	}
	return nil
}

// Trace marks the living local process pid traced (on) or not. It
// returns false when there is no such process. A process's mark goes with
// it: its exit is the last event it reports.
func (n *Node) Trace(pid Pid, on bool) bool {
	p := n.lookup(pid)
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead {
		return false
	}
	f := p.flags.Load()
	if on {
		f |= flagTraced
	} else {
		f &^= flagTraced
	}
	p.flags.Store(f) // writers hold mu: no update is lost
	return true
}

// Traced reports whether the local process pid is marked traced.
func (n *Node) Traced(pid Pid) bool {
	p := n.lookup(pid)
	return p != nil && p.flags.Load()&flagTraced != 0
}

// traceSend reports a send by p if p is traced.
func (p *Process) traceSend(to Pid, name Name, msg any) {
	if p.flags.Load()&flagTraced != 0 {
		p.node.emit(TraceEvent{Kind: TraceSend, Pid: p.pid, To: to, ToName: name, Msg: msg})
	}
}

//go:noinline
func (p *Process) traceReceive(msg any) {
	p.node.emit(TraceEvent{Kind: TraceReceive, Pid: p.pid, Msg: msg})
}

//go:noinline
func (p *Process) traceExit(reason any) {
	p.node.emit(TraceEvent{Kind: TraceExit, Pid: p.pid, Msg: reason})
}

func (n *Node) emit(e TraceEvent) {
	if b := n.tracer.Load(); b != nil {
		b.t.Trace(e)
	}
}
