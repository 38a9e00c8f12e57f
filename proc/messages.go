package proc

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
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
	// Stack is the stack as debug.Stack prints it, when the reason was
	// made with it; NewPanicReason leaves it empty and keeps the frames,
	// which StackText formats when asked.
	Stack  string
	frames *panicFrames
}

// panicFrames are the return addresses of a panicking goroutine, turned
// into text once, by the first StackText that asks: most panics of
// supervised processes are restarted without anyone reading their stack,
// and formatting it was a third of a restart.
type panicFrames struct {
	once sync.Once
	pcs  []uintptr
	text string
}

// NewPanicReason makes the reason of a panic with value v, recording the
// caller's stack; call it in the deferred function that recovered.
func NewPanicReason(v any) PanicReason {
	var pcs [64]uintptr
	n := runtime.Callers(2, pcs[:])
	return PanicReason{Value: v, frames: &panicFrames{pcs: append([]uintptr(nil), pcs[:n]...)}}
}

// StackText returns the stack at the panic, a function a line followed by
// its file and line indented by a tab, as debug.Stack prints them.
func (r PanicReason) StackText() string {
	if r.Stack != "" || r.frames == nil {
		return r.Stack
	}
	f := r.frames
	f.once.Do(func() {
		frames := runtime.CallersFrames(f.pcs)
		var b strings.Builder
		for {
			fr, more := frames.Next()
			b.WriteString(fr.Function + "(...)\n\t" + fr.File + ":" + strconv.Itoa(fr.Line) + "\n")
			if !more {
				break
			}
		}
		f.text = b.String()
	})
	return f.text
}

func (r PanicReason) String() string {
	return fmt.Sprintf("panic: %v", r.Value)
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
