package proc

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// ExitMsg is what a process that traps exits receives instead of dying:
// Erlang's {'EXIT', From, Reason}.
type ExitMsg struct {
	From   Pid
	Reason any
}

func (m ExitMsg) String() string {
	return fmt.Sprintf("{:EXIT, %v, %s}", m.From, FormatReason(m.Reason))
}

// DownMsg tells a monitoring process that the monitored one ended:
// Erlang's {'DOWN', Ref, process, Pid | {Name, Node}, Reason}. Name is set
// (and Pid may be zero) when the monitor was set on a registered name.
type DownMsg struct {
	Ref    Ref
	Pid    Pid
	Name   Name
	Reason any
}

func (m DownMsg) String() string {
	var obj string
	if m.Name.Name != "" {
		obj = "{" + m.Name.Name + ", " + m.Name.Node + "}"
	} else {
		obj = m.Pid.String()
	}
	return fmt.Sprintf("{:DOWN, %v, :process, %s, %s}", m.Ref, obj, FormatReason(m.Reason))
}

// CallRequest is the message a Call puts in the callee's mailbox (Erlang's
// {'$gen_call', {From, Ref}, Request}). Answer it with Process.Reply.
type CallRequest struct {
	From    Pid
	Ref     Ref
	Request any
}

// CallReply is the answer to a CallRequest, matched by Ref.
type CallReply struct {
	Ref   Ref
	Reply any
}

// PanicReason is the exit reason of a process whose function panicked. It
// carries the panic value and the goroutine's stack at the panic.
type PanicReason struct {
	Value any
	Stack string
}

func (r PanicReason) String() string {
	return fmt.Sprintf("panic: %v", r.Value)
}

// PanicStack returns the stack of the calling goroutine, for a
// PanicReason made in a deferred recover, in the form of debug.Stack:
// a function a line, then its file and line indented by a tab. It walks
// the frames itself, which costs a few microseconds where debug.Stack
// formats through the runtime's printer and, from a 1 KB buffer, again
// at every doubling: it was a third of a supervised restart. At most 64
// frames are kept.
func PanicStack() string {
	var pcs [64]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs[:])])
	var b strings.Builder
	b.Grow(2048)
	for {
		f, more := frames.Next()
		b.WriteString(f.Function)
		b.WriteString("(...)\n\t")
		b.WriteString(f.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(f.Line))
		b.WriteByte('\n')
		if !more {
			return b.String()
		}
	}
}

// FormatReason renders an exit reason the way the shell prints it: atoms as
// :name, panics as "panic: value" followed by the first frame of interest.
func FormatReason(reason any) string {
	switch r := reason.(type) {
	case nil:
		return "nil"
	case PanicReason:
		return r.String()
	case *PanicReason:
		return r.String()
	case error:
		return r.Error()
	case fmt.Stringer:
		return r.String()
	case string:
		return fmt.Sprintf("%q", r)
	default:
		return strings.TrimSpace(fmt.Sprintf("%v", r))
	}
}
