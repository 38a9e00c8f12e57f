package otp

import (
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/proc"
)

// Server is a behaviour in the manner of Elixir's GenServer: a process that
// holds a state and answers calls, casts and other messages one at a time,
// in mailbox order. It is a struct of functions rather than an interface so
// that a server is written as a literal, with only the handlers it needs;
// a nil handler behaves as GenServer's default callback does.
//
// Every handler runs on the server's own goroutine and receives the server
// process p, which it may use as any process (Call other servers, Spawn,
// Send). A handler that returns an error stops the server: Terminate runs
// and the process exits with the error as its reason, or with the Reason of
// a ServerExit. A handler that panics stops it the same way, with a
// proc.PanicReason as reason (GenServer calls terminate/2 after a raise in
// a callback too).
type Server struct {
	// Init makes the first state from the arg given to StartServer. It runs
	// on the server process before StartServer returns (proc_lib's init
	// ack), so that a server that cannot start is reported to its starter.
	// An error stops the process and is what StartServer returns. nil
	// takes arg as the state.
	Init func(p *proc.Process, arg any) (state any, err error)

	// HandleCall answers a ServerCall. from identifies the caller: a reply
	// of ServerNoReply leaves the call waiting, to be answered later with
	// ServerReply(p, from, reply), perhaps by another process. On a plain
	// error no reply is sent: the server exits and the caller's ServerCall
	// gets the exit as a *proc.ExitError. On a ServerExit, reply is sent
	// first unless it is ServerNoReply, as GenServer's {:stop, reason,
	// reply, state}. nil: a call stops the server with an error wrapping
	// ErrServerNoHandler, as GenServer's default handle_call raises.
	HandleCall func(p *proc.Process, req any, from proc.CallRequest, state any) (reply any, newState any, err error)

	// HandleCast handles a ServerCast. nil: a cast stops the server with
	// an error wrapping ErrServerNoHandler, as GenServer's default
	// handle_cast raises.
	HandleCast func(p *proc.Process, msg any, state any) (newState any, err error)

	// HandleInfo handles any other message: a plain Send, a DownMsg, an
	// ExitMsg from a link other than the parent's when trapping exits. nil:
	// the message is logged and dropped, as GenServer's default
	// handle_info logs "received unexpected message".
	HandleInfo func(p *proc.Process, msg any, state any) (newState any, err error)

	// Terminate runs once when the server stops on its own accord: a
	// handler's error or panic, ServerStop, or (with
	// ServerOptions.TrapExit) an exit signal from its parent, whose reason
	// it then takes. It does not run when the process is killed by an exit
	// signal it does not trap, nor when Init fails. It may be nil.
	Terminate func(p *proc.Process, reason any, state any)
}

// ServerOptions set how a server starts.
type ServerOptions struct {
	// Name registers the server under this name on its node (GenServer's
	// name: option). A name already taken fails the start with an error
	// wrapping proc.ErrNameTaken.
	Name string
	// NoLink starts the server unlinked from the starting process
	// (GenServer.start rather than start_link). Without a starting
	// process (StartServerOn) there is never a link.
	NoLink bool
	// TrapExit starts the server trapping exits, from its first
	// instruction: an exit signal from its parent (the linked starter, or
	// the supervisor) then stops it through Terminate with the parent's
	// reason, and exit signals from other links reach HandleInfo as
	// proc.ExitMsg.
	TrapExit bool
	// InitTimeout bounds Init: past it the server is killed and
	// StartServer returns an error wrapping proc.ErrTimeout. 0 waits as
	// long as Init takes, GenServer's default (:infinity).
	InitTimeout time.Duration
}

// ServerExit, returned as the error of a handler, stops the server with
// Reason as its exit reason, where a plain error would stop it with the
// error itself: use it for an orderly stop (Reason proc.Normal or
// proc.Shutdown), which links do not propagate and no crash report
// records. It is GenServer's {:stop, reason, ...} return.
type ServerExit struct {
	Reason any
}

// Error says that the server stops and why: a ServerExit is an error only
// so that handlers can return it.
func (e ServerExit) Error() string {
	return "otp: server stops: " + proc.FormatReason(e.Reason)
}

// serverNoReply is the type of ServerNoReply.
type serverNoReply struct{}

// ServerNoReply, returned as HandleCall's reply, sends none: the handler
// keeps from and answers later with ServerReply (GenServer's {:noreply,
// state} from handle_call).
var ServerNoReply any = serverNoReply{}

// ErrServerNoHandler is wrapped by the exit reason of a server that got a
// call or cast and has no handler for it.
var ErrServerNoHandler = errors.New("otp: server has no handler for the message")

// serverAck is a server's answer to its starter once Init has run: nil
// when the server runs, else why it does not.
type serverAck struct {
	err error
}

// StartServer starts s as a new process and runs Init with arg before
// returning, as GenServer.start_link does. With a non-nil parent (the
// calling process, on whose goroutine StartServer must run) the server is
// linked to it unless o.NoLink is set. With a nil parent there is no link:
// use StartServerOn from outside any process, as parent gives the node.
//
// When Init fails, StartServer returns its error and the server exits with
// it as reason (a ServerExit's Reason), after unlinking from the parent:
// the parent is not killed and gets no ExitMsg. This differs from OTP 25,
// where start_link's caller dies of the link unless it traps exits; Go
// code gets the error as a value instead. A panic in Init, or a kill
// during it, returns a *proc.ExitError with the reason.
func StartServer(parent *proc.Process, s Server, arg any, o ServerOptions) (proc.Pid, error) {
	if parent == nil {
		return proc.Pid{}, errors.New("otp: StartServer needs a parent process; use StartServerOn from outside any process")
	}
	return startServer(parent.Node(), parent, s, arg, o, false)
}

// StartServerOn starts s on node n from outside any process: unlinked, as
// GenServer.start. It waits for Init as StartServer does.
func StartServerOn(n *proc.Node, s Server, arg any, o ServerOptions) (proc.Pid, error) {
	return startServer(n, nil, s, arg, o, false)
}

// ServerStarter returns how a supervisor starts s as its child: the
// function runs on the supervisor process sup and returns the server
// linked to it, its exits reported by the supervisor rather than the node
// (proc.SpawnOptions.Supervised). Its signature is the supervisor's
// StartFunc; a Go server cannot start on another node than sup's, so any
// other node is refused. o.NoLink is ignored: a child is always linked.
func ServerStarter(s Server, arg any, o ServerOptions) func(sup *proc.Process, node string) (proc.Pid, error) {
	o.NoLink = false
	return func(sup *proc.Process, node string) (proc.Pid, error) {
		if node != "" && node != sup.Node().Name() {
			return proc.Pid{}, fmt.Errorf("otp: a Go server cannot start on %s, only on its supervisor's node %s", node, sup.Node().Name())
		}
		return startServer(sup.Node(), sup, s, arg, o, true)
	}
}

func startServer(n *proc.Node, parent *proc.Process, s Server, arg any, o ServerOptions, supervised bool) (proc.Pid, error) {
	sv := &server{s: s, supervised: supervised}
	link := parent != nil && !o.NoLink
	if link {
		sv.parent = parent.Pid()
	}
	// Buffered: a server whose starter gave up waiting must not block.
	ack := make(chan serverAck, 1)
	body := func(p *proc.Process) { sv.run(p, arg, ack) }
	so := proc.SpawnOptions{Link: link, Name: o.Name, TrapExit: o.TrapExit, Label: "server", Supervised: supervised}
	var pid proc.Pid
	var err error
	if parent != nil {
		pid, _, err = parent.SpawnOpt(body, so)
	} else {
		pid, err = n.SpawnOpt(body, so)
	}
	if err != nil {
		return proc.Pid{}, fmt.Errorf("otp: start server: %w", err)
	}

	var timeout <-chan time.Time
	if o.InitTimeout > 0 {
		t := time.NewTimer(o.InitTimeout)
		defer t.Stop()
		timeout = t.C
	}
	var parentDead <-chan struct{}
	if parent != nil {
		parentDead = parent.Context().Done()
	}
	select {
	case a := <-ack:
		if a.err != nil {
			return proc.Pid{}, a.err
		}
		return pid, nil
	case <-timeout:
		// As proc_lib's sync_start_link: unlink, then kill, so that the
		// kill does not come back to the parent through the link.
		if link {
			_ = parent.Unlink(pid)
		}
		_ = n.Exit(pid, proc.Kill)
		return proc.Pid{}, fmt.Errorf("otp: server %v init: %w after %v", pid, proc.ErrTimeout, o.InitTimeout)
	case <-parentDead:
		// The parent was killed while it waited: its link takes the
		// server down with it (or, trapped, makes it terminate).
		return proc.Pid{}, proc.ErrDead
	}
}
