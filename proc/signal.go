package proc

import (
	"errors"
	"fmt"
)

// SignalKind says what a Signal carries between nodes. proc hands signals
// for remote pids to the installed Forwarder and accepts signals from other
// nodes through Node.Deliver. The numbers are part of no wire format; dist
// maps them to its own.
type SignalKind uint8

const (
	SigSend      SignalKind = iota + 1 // Msg to the process To
	SigSendName                        // Msg to the process registered as ToName on To.Node
	SigLink                            // From links to To
	SigUnlink                          // From removes its link to To
	SigExit                            // From, linked to To, exited with reason Msg
	SigExit2                           // From sent To the exit signal Msg (Erlang's exit/2)
	SigMonitor                         // From monitors To (or ToName on To.Node), reference Ref
	SigDemonitor                       // From drops monitor Ref on To (or ToName)
	SigDown                            // the process From (or ToName) monitored by To under Ref ended with reason Msg
)

var kindNames = [...]string{"", "send", "send_name", "link", "unlink", "exit", "exit2", "monitor", "demonitor", "down"}

func (k SignalKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("signal(%d)", uint8(k))
}

// Signal is one process-to-process signal crossing a node boundary.
//
// For SigSendName, SigMonitor and SigDemonitor by name, ToName is set and
// To carries only the target node in To.Node. For SigDown of a monitor set by
// name, ToName is the name that was monitored.
type Signal struct {
	Kind   SignalKind
	From   Pid
	To     Pid
	ToName string
	Ref    Ref
	Msg    any // the message for sends, the reason for exits and downs
}

// Forwarder carries signals to processes of other nodes. The distribution
// layer installs one with Node.SetForwarder. Forward must not block for long
// (it should only enqueue) and must be safe for concurrent use. An error
// means the signal could not be sent; proc returns it to the caller where
// the operation has a caller who can see it (send to a remote name) and
// otherwise turns it into the Erlang outcome (noconnection).
type Forwarder interface {
	Forward(Signal) error
}

// Errors callers branch on.
var (
	ErrNoProc          = errors.New("proc: no such process")
	ErrNotRegistered   = errors.New("proc: no process registered under that name")
	ErrNameTaken       = errors.New("proc: name already registered")
	ErrAlreadyNamed    = errors.New("proc: process already has a registered name")
	ErrBadName         = errors.New("proc: bad registered name")
	ErrTimeout         = errors.New("proc: timeout")
	ErrNoDistribution  = errors.New("proc: no distribution layer: remote pids and nodes are unreachable")
	ErrDead            = errors.New("proc: the calling process has exited")
	ErrNodeStopped     = errors.New("proc: node stopped")
	ErrNotHandlerStyle = errors.New("proc: receive is not available in a handler-style process")
	ErrCallingSelf     = errors.New("proc: calling_self: a process cannot call itself")
)

// ExitError reports that a process ended, or did not exist, while the caller
// waited on it (Call). errors.Is(err, ErrNoProc) holds when the reason is
// NoProc.
type ExitError struct {
	Pid    Pid
	Reason any
}

func (e *ExitError) Error() string {
	if e.Pid.IsZero() { // a process known by name only (CallName)
		return "proc: exit: " + FormatReason(e.Reason)
	}
	return fmt.Sprintf("proc: process %v exited: %v", e.Pid, FormatReason(e.Reason))
}

func (e *ExitError) Unwrap() error {
	if e.Reason == NoProc {
		return ErrNoProc
	}
	return nil
}
