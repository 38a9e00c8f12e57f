package dist

import (
	"errors"
	"fmt"

	"github.com/gonode/gonode/proc"
)

// Kind says what a Message asks of the receiving node. The numbers are part
// of the native wire format: only append.
type Kind uint8

const (
	KindSend         Kind = 1  // Payload to the process To
	KindRegSend      Kind = 2  // Payload to the process registered as ToName on To.Node
	KindLink         Kind = 3  // From links to To
	KindUnlink       Kind = 4  // From removes its link to To
	KindExit         Kind = 5  // From, linked to To, exited with reason Payload
	KindExit2        Kind = 6  // From sends To the exit signal Payload (Erlang's exit/2)
	KindMonitor      Kind = 7  // From monitors To (or ToName on To.Node) under Ref
	KindDemonitor    Kind = 8  // From drops its monitor Ref on To (or ToName)
	KindDown         Kind = 9  // From (or ToName), monitored by To under Ref, ended with reason Payload
	KindSpawnRequest Kind = 10 // spawn Fn(Args...) on To.Node for From; answered by KindSpawnReply
	KindSpawnReply   Kind = 11 // the answer to the SpawnRequest Ref: the new process is From
	KindCall         Kind = 12 // run Fn(Args...) on To.Node; answered by KindReply; Payload: the caller's group leader, if any
	KindReply        Kind = 13 // the answer to the Call Ref: Payload or Err
	KindCast         Kind = 14 // run Fn(Args...) on To.Node; no answer; Payload as for KindCall
	KindPeers        Kind = 15 // the visible nodes the sender is connected to, for meshing
	KindCancel       Kind = 16 // the caller of the Call Ref gave up: cancel its context, send no reply
	KindTickTime     Kind = 17 // the sender's tick time in ms (Payload): send ticks often enough for it
)

var kindNames = [...]string{"", "send", "reg_send", "link", "unlink", "exit", "exit2",
	"monitor", "demonitor", "down", "spawn_request", "spawn_reply", "call", "reply", "cast", "peers", "cancel", "tick_time"}

func (k Kind) String() string {
	if k != 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Valid reports whether k is a kind this version knows.
func (k Kind) Valid() bool { return k != 0 && int(k) < len(kindNames) }

// Message is one node-to-node message in a form independent of any wire
// protocol: the native codec encodes it, and an Erlang dialect maps the same
// model to its own control messages. Which fields a kind uses:
//
//	Kind          From                 To                   ToName  Ref          Payload  other
//	Send          sender, or zero      receiver             -       -            message  -
//	RegSend       sender, or zero      To.Node only         name    -            message  -
//	Link, Unlink  linker               linked process       -       -            -        -
//	Exit          exited process       linked process       -       -            reason   -
//	Exit2         sender               target               -       -            reason   -
//	Monitor       monitoring process   monitored process *  name *  monitor ref  -        -
//	Demonitor     monitoring process   monitored process *  name *  monitor ref  -        -
//	Down          monitored process *  monitoring process   name *  monitor ref  reason   -
//	SpawnRequest  requester            To.Node only         -       request ref  -        Fn, Args, Source, Link, Monitor, Supervised
//	SpawnReply    new process **       requester            -       request ref  -        Err
//	Call          caller               To.Node only         -       call ref     -        Fn, Args, Source
//	Reply         -                    caller               -       call ref     result   Err
//	Cast          caller, or zero      To.Node only         -       -            -        Fn, Args, Source
//	Peers         -                    -                    -       -            names    -
//	Cancel        -                    -                    -       call ref     -        -
//	TickTime      -                    -                    -       -            ms       -
//
// (*) For a monitor set on a registered name, ToName is the name and the
// monitored side's pid carries only its node (To.Node; for Down, From may be
// zero). (**) Zero when Err is set. A Peers payload is a []any of node
// names (strings).
//
// A SpawnRequest with Monitor set monitors the new process under the request
// Ref, as Erlang's spawn_request does. Unused fields are left zero; the
// codec does not check which fields a kind uses, the receiving node does.
type Message struct {
	Kind    Kind
	From    proc.Pid
	To      proc.Pid
	ToName  string
	Ref     proc.Ref
	Payload any

	// Fn names the function to run (SpawnRequest, Call, Cast), as the
	// peer's function registry knows it.
	Fn string
	// Args are the arguments to Fn.
	Args []any
	// Source, if set, is the source text of a function literal for the
	// peer's interpreter to run instead of looking Fn up.
	Source string
	// Link, Monitor and Supervised are SpawnRequest's options: link the new
	// process to From, monitor it from From, leave the reports of its
	// crashes to its supervisor (proc.SpawnOptions.Supervised).
	Link, Monitor, Supervised bool
	// Err reports the failure of a SpawnRequest or a Call.
	Err *RemoteError
}

// Kinds of RemoteError. More may follow; compare with these constants.
const (
	RemoteUndef    = "undef"    // no function of that name on the peer
	RemoteBadarg   = "badarg"   // the arguments did not fit the function
	RemotePanic    = "panic"    // the function panicked; Message holds the panic value
	RemoteTimeout  = "timeout"  // the peer gave up waiting
	RemoteNoProc   = "noproc"   // the process asked for does not exist
	RemoteNodeDown = "nodedown" // the connection to the peer was lost before the answer
	RemoteGoError  = "error"    // a Go error value, carried as its text
	RemoteExit     = "exit"     // the function's process exited (exit(reason)); Message holds the reason as printed
	RemoteBusy     = "busy"     // the peer runs as many calls from this node as it allows (Config.MaxCallsPerPeer)
	RemoteRefused  = "refused"  // the peer's allow-list does not let this node run that function (Config.RPCAllow)
)

// RemoteError is a failure that happened on another node: the reason a
// Call or SpawnRequest failed, or a Go error value that crossed the wire
// inside a payload (Kind RemoteGoError). It holds only strings so that it
// survives any codec. errors.Is matches the sentinel each kind stands for:
// proc.ErrTimeout, proc.ErrNoProc, ErrUndef, ErrBadArgs, ErrPanic, ErrNodeDown,
// ErrBusy, ErrRefusedCall.
type RemoteError struct {
	Kind    string
	Message string
}

func (e *RemoteError) Error() string {
	if e.Message == "" {
		return "remote " + e.Kind
	}
	return "remote " + e.Kind + ": " + e.Message
}

// Is lets errors.Is match the proc sentinels that a kind stands for.
func (e *RemoteError) Is(target error) bool {
	switch e.Kind {
	case RemoteTimeout:
		return target == proc.ErrTimeout
	case RemoteNoProc:
		return target == proc.ErrNoProc
	case RemoteUndef:
		return target == ErrUndef
	case RemoteBadarg:
		return target == ErrBadArgs
	case RemotePanic:
		return target == ErrPanic
	case RemoteNodeDown:
		return target == ErrNodeDown
	case RemoteBusy:
		return target == ErrBusy
	case RemoteRefused:
		return target == ErrRefusedCall
	}
	return false
}

// AsRemoteError returns err as a *RemoteError for sending to another node:
// the RemoteError in err's chain if there is one, and otherwise one of Kind
// RemoteTimeout or RemoteNoProc for those proc sentinels, or RemoteGoError
// with err's text. It returns nil for a nil err.
func AsRemoteError(err error) *RemoteError {
	if err == nil {
		return nil
	}
	var re *RemoteError
	switch {
	case errors.As(err, &re):
		return re
	case errors.Is(err, proc.ErrTimeout):
		return &RemoteError{Kind: RemoteTimeout, Message: err.Error()}
	case errors.Is(err, proc.ErrNoProc):
		return &RemoteError{Kind: RemoteNoProc, Message: err.Error()}
	}
	return &RemoteError{Kind: RemoteGoError, Message: err.Error()}
}

// signalKinds maps proc's signal kinds to message kinds, and back.
var signalKinds = [...]struct {
	sig  proc.SignalKind
	kind Kind
}{
	{proc.SigSend, KindSend},
	{proc.SigSendName, KindRegSend},
	{proc.SigLink, KindLink},
	{proc.SigUnlink, KindUnlink},
	{proc.SigExit, KindExit},
	{proc.SigExit2, KindExit2},
	{proc.SigMonitor, KindMonitor},
	{proc.SigDemonitor, KindDemonitor},
	{proc.SigDown, KindDown},
}

// MessageFromSignal converts a signal that proc hands to the distribution
// layer into a Message. The signal's Msg becomes Payload; the other fields
// carry over by name. A signal kind this package does not know gives a
// Message of Kind 0, which Kind.Valid reports and codecs refuse.
func MessageFromSignal(s proc.Signal) Message {
	m := Message{From: s.From, To: s.To, ToName: s.ToName, Ref: s.Ref, Payload: s.Msg}
	for _, k := range signalKinds {
		if k.sig == s.Kind {
			m.Kind = k.kind
			break
		}
	}
	return m
}

// Signal converts m back into the proc.Signal that proc.Node.Deliver takes.
// It reports false for kinds that are not process signals (spawn and rpc),
// which the distribution layer handles itself.
func (m Message) Signal() (proc.Signal, bool) { return m.signal() }

// signal is Signal without copying the Message, for the receiving path.
func (m *Message) signal() (proc.Signal, bool) {
	for _, k := range signalKinds {
		if k.kind == m.Kind {
			return proc.Signal{Kind: k.sig, From: m.From, To: m.To, ToName: m.ToName, Ref: m.Ref, Msg: m.Payload}, true
		}
	}
	return proc.Signal{}, false
}
