package otp

import (
	"errors"
	"fmt"
	"log"
	"reflect"
	"runtime"
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

// ServerCastMsg is the message ServerCast puts in a server's mailbox, so
// that the server tells casts (HandleCast) from other messages
// (HandleInfo), as gen_server tags them {'$gen_cast', Msg}.
type ServerCastMsg struct {
	Msg any
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

// ServerSender sends messages: *proc.Process and *proc.Node are both
// ServerSenders, so that a cast can be made from a process or from outside
// any process.
type ServerSender interface {
	Send(to proc.Pid, msg any) error
	SendName(to proc.Name, msg any) error
}

// serverStopMsg asks a server to stop (ServerStop); it is the system
// message sys:terminate sends.
type serverStopMsg struct {
	reason any
}

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

// server is the running state of one server process.
type server struct {
	s          Server
	parent     proc.Pid // the linked starter, zero if none
	supervised bool
	state      any
}

// run is the server process's function: Init, the ack, then the loop.
func (sv *server) run(p *proc.Process, arg any, ack chan<- serverAck) {
	acked := false
	defer func() {
		if acked {
			return
		}
		// Init did not return: it panicked, or the process was killed or
		// exited in it. Tell the starter either way.
		r := recover()
		var reason any
		if r != nil {
			reason = proc.NewPanicReason(r)
		} else {
			reason = p.Reason()
		}
		if p.Alive() && !sv.parent.IsZero() {
			_ = p.Unlink(sv.parent)
		}
		ack <- serverAck{err: &proc.ExitError{Pid: p.Pid(), Reason: reason}}
		if p.Alive() {
			p.Exit(reason) // a PanicReason: the node reports the crash
		}
	}()
	state, err := sv.init(p, arg)
	if err != nil {
		if !sv.parent.IsZero() {
			_ = p.Unlink(sv.parent)
		}
		acked = true
		ack <- serverAck{err: err}
		p.Exit(serverReason(err))
	}
	sv.state = state
	acked = true
	ack <- serverAck{}
	for {
		m, err := p.Receive(nil)
		if err != nil {
			return // not reached: a killed goroutine-style process unwinds in Receive
		}
		if stop, reason := sv.handle(p, m); stop {
			sv.stop(p, reason)
		}
	}
}

func (sv *server) init(p *proc.Process, arg any) (any, error) {
	if sv.s.Init == nil {
		return arg, nil
	}
	return sv.s.Init(p, arg)
}

// handle dispatches one message and reports whether the server must stop,
// and with what reason. A panic in a handler becomes a stop with a
// PanicReason, so that Terminate runs before the process exits.
func (sv *server) handle(p *proc.Process, m any) (stop bool, reason any) {
	defer func() {
		if r := recover(); r != nil {
			stop, reason = true, proc.NewPanicReason(r)
		}
	}()
	var err error
	switch m := m.(type) {
	case proc.CallRequest:
		err = sv.call(p, m)
	case ServerCastMsg:
		if sv.s.HandleCast == nil {
			return true, fmt.Errorf("%w: cast %v to server %v", ErrServerNoHandler, m.Msg, p.Pid())
		}
		sv.state, err = sv.s.HandleCast(p, m.Msg, sv.state)
	case serverStopMsg:
		return true, m.reason
	case proc.ExitMsg:
		if !sv.parent.IsZero() && m.From == sv.parent {
			// gen_server: a server trapping exits stops with its
			// parent's reason, whatever it is (normal included).
			return true, m.Reason
		}
		err = sv.info(p, m)
	default:
		err = sv.info(p, m)
	}
	if err != nil {
		return true, serverReason(err)
	}
	return false, nil
}

func (sv *server) call(p *proc.Process, req proc.CallRequest) error {
	if sv.s.HandleCall == nil {
		return fmt.Errorf("%w: call %v to server %v from %v", ErrServerNoHandler, req.Request, p.Pid(), req.From)
	}
	reply, state, err := sv.s.HandleCall(p, req.Request, req, sv.state)
	sv.state = state
	if err != nil {
		var se ServerExit
		if errors.As(err, &se) && reply != ServerNoReply {
			_ = p.Reply(req, reply)
		}
		return err
	}
	if reply != ServerNoReply {
		_ = p.Reply(req, reply)
	}
	return nil
}

func (sv *server) info(p *proc.Process, m any) error {
	if sv.s.HandleInfo == nil {
		log.Printf("[error] server %v received unexpected message: %s", p.Pid(), proc.FormatReason(m))
		return nil
	}
	var err error
	sv.state, err = sv.s.HandleInfo(p, m, sv.state)
	return err
}

// stop runs Terminate and ends the process with reason. An abnormal
// reason of an unsupervised server is reported to the node's crash
// reporter, as GenServer logs "terminating"; a panic is reported by proc
// itself (Exit with a PanicReason), and a supervised server's exit by its
// supervisor.
func (sv *server) stop(p *proc.Process, reason any) {
	if sv.s.Terminate != nil {
		sv.s.Terminate(p, reason, sv.state)
	}
	if _, isPanic := reason.(proc.PanicReason); !isPanic && !sv.supervised && !normalExit(reason) {
		n := p.Node()
		report := proc.CrashReport{Pid: p.Pid(), Label: "server", Function: sv.function(), Reason: reason}
		if info, ok := n.Info(p.Pid()); ok {
			report.Name = info.Name
		}
		// Deferred, so that it runs after the death (Exit unwinds the
		// goroutine), as proc reports panics once links are told.
		defer n.ReportCrash(report)
	}
	p.Exit(reason)
}

// function names the server in crash reports: the first handler it has,
// since the process's own function is this package's closure.
func (sv *server) function() string {
	for _, f := range []any{sv.s.Init, sv.s.HandleCall, sv.s.HandleCast, sv.s.HandleInfo} {
		v := reflect.ValueOf(f)
		if v.IsNil() {
			continue
		}
		if fn := runtime.FuncForPC(v.Pointer()); fn != nil {
			return fn.Name()
		}
	}
	return ""
}

// serverReason is the exit reason for a handler's error: a ServerExit's
// Reason, else the error itself.
func serverReason(err error) any {
	var se ServerExit
	if errors.As(err, &se) {
		return se.Reason
	}
	return err
}

// ServerCall sends req to the server to and waits at most timeout for the
// reply (GenServer.call). to is a proc.Pid, a proc.Name, or a string naming
// a server registered on p's node. p is the calling process; from outside
// any process, attach one (proc.Node.Attach).
//
// Where GenServer.call exits the caller, ServerCall returns an error: one
// wrapping proc.ErrTimeout on timeout (a late reply is dropped), a
// *proc.ExitError when the server is dead or dies before answering (reason
// proc.NoProc for no such process), proc.ErrCallingSelf for a server
// calling itself, which would deadlock.
func ServerCall(p *proc.Process, to any, req any, timeout time.Duration) (any, error) {
	switch to := to.(type) {
	case proc.Pid:
		return p.Call(to, req, timeout)
	case proc.Name:
		return p.CallName(to, req, timeout)
	case string:
		return p.CallName(proc.Name{Name: to}, req, timeout)
	}
	return nil, serverBadTarget(to)
}

// ServerCast sends msg to the server to without waiting (GenServer.cast):
// it reaches HandleCast. from is the sending process or, from outside any
// process, the node. GenServer.cast returns :ok even for a name that is not
// registered; ServerCast returns that error (proc.ErrNotRegistered), as
// proc's SendName does, since a Go caller can use it. A dead pid is not an
// error: the message is dropped, as any send to it is.
//
// To a server of another node, the cast arrives as the distribution layer
// carries a ServerCastMsg: dist's native codec turns structs of other
// packages into maps, which reach HandleInfo there. ServerCall crosses
// nodes intact (proc.CallRequest is one of the codec's own types).
func ServerCast(from ServerSender, to any, msg any) error {
	m := ServerCastMsg{Msg: msg}
	switch to := to.(type) {
	case proc.Pid:
		return from.Send(to, m)
	case proc.Name:
		return from.SendName(to, m)
	case string:
		return from.SendName(proc.Name{Name: to}, m)
	}
	return serverBadTarget(to)
}

// ServerReply answers a call that HandleCall left waiting with
// ServerNoReply (GenServer.reply). Any process may send it, from the
// server's or another's goroutine.
func ServerReply(p *proc.Process, from proc.CallRequest, reply any) error {
	return p.Reply(from, reply)
}

// ServerStop stops the server to with reason and waits at most timeout
// until it has exited (GenServer.stop): the server runs Terminate, in turn
// after the messages already in its mailbox, and exits with reason. An
// abnormal reason is reported as a crash, as GenServer logs it. It returns
// nil once the server has exited with reason; a *proc.ExitError if it
// exited otherwise (Terminate panicked, or it died meanwhile) or was not
// running (reason proc.NoProc, errors.Is(err, proc.ErrNoProc)); an error
// wrapping proc.ErrTimeout if it is still running after timeout (the stop
// request stays in its mailbox, where GenServer.stop exits the caller).
//
// Only servers of p's node can be stopped: the request is a Go value that
// the distribution layer would not deliver as such. Stop a server of
// another node from there (an rpc), or give it a call that stops it.
func ServerStop(p *proc.Process, to any, reason any, timeout time.Duration) error {
	var pid proc.Pid
	switch to := to.(type) {
	case proc.Pid:
		pid = p.Node().Resolve(to)
	case proc.Name, string:
		name, ok := to.(proc.Name)
		if !ok {
			name = proc.Name{Name: to.(string)}
		}
		if name.Node != "" && name.Node != p.Node().Name() {
			return fmt.Errorf("stop %v: %w", name, errServerNotLocal)
		}
		if pid, ok = p.Node().Whereis(name.Name); !ok {
			return fmt.Errorf("stop %v: %w", name, &proc.ExitError{Reason: proc.NoProc})
		}
	default:
		return serverBadTarget(to)
	}
	switch {
	case !p.Node().IsLocal(pid):
		return fmt.Errorf("stop %v: %w", pid, errServerNotLocal)
	case pid == p.Pid():
		return fmt.Errorf("stop %v: %w", pid, proc.ErrCallingSelf)
	}
	ref := p.Monitor(pid)
	if err := p.Send(pid, serverStopMsg{reason: reason}); err != nil {
		p.Demonitor(ref, true)
		return err
	}
	m, err := p.ReceiveMatchTimeout(timeout, func(m any) bool {
		d, ok := m.(proc.DownMsg)
		return ok && d.Ref == ref
	})
	if err != nil {
		p.Demonitor(ref, true)
		if err == proc.ErrTimeout {
			return fmt.Errorf("stop %v: %w after %v", to, proc.ErrTimeout, timeout)
		}
		return err
	}
	d := m.(proc.DownMsg)
	if serverSameReason(d.Reason, reason) {
		return nil
	}
	return &proc.ExitError{Pid: d.Pid, Reason: d.Reason}
}

// serverSameReason compares exit reasons, which may be of types == panics
// on.
func serverSameReason(a, b any) bool {
	return reflect.DeepEqual(a, b)
}

var errServerNotLocal = errors.New("otp: ServerStop stops servers of the caller's node only")

func serverBadTarget(to any) error {
	return fmt.Errorf("otp: a server is a proc.Pid, a proc.Name or a registered name, not %T", to)
}
