package erlang

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// erpc into gonode. OTP 25's rpc:call is erpc:call, which sends
//
//	SPAWN_REQUEST {29, ReqId, Caller, GL, {erpc, execute_call, 4}, [monitor]} + [Res, M, F, A]
//
// and waits for the DOWN of the process it asked for: the exit reason
// carries the answer ({Res, return, V}, {Res, throw, T}, {Res, exit, R},
// {Res, error, R, Stack} or {Res, error, {erpc, R}}; erpc.erl's
// execute_call and result). gonode runs no BEAM code, so the codec turns
// the request into dist's KindCall (the node runs it as any peer's call:
// Resolver, allow-list, cap, cancellation) and its KindReply into the
// reason: SPAWN_REPLY {31, ReqId, Caller, 2, Pid} goes back at once (dist
// writes a codec's reply frame before it hands the message on, so the
// DOWN cannot overtake it), and the KindReply becomes
// PAYLOAD_MONITOR_P_EXIT {28, Pid, Caller, ReqId} + Reason. Pid is a
// stand-in ({node, 0, N}: process 0 of this node with a serial no process
// has) that names the call while it runs: a DEMONITOR_P or EXIT2 of it
// (the caller gave up) cancels the call's context, as dist's KindCancel.
// erpc:cast (and rpc:cast) sends {erpc, execute_cast, 3} + [M, F, A]
// without a monitor: a KindCast.
//
// The names: M:F is the gonode function FunctionName(M, F). A few
// functions of the erlang module that BEAM tools call are answered by the
// codec itself (builtin). Node.spawn(gonode, fun) and erpc:call(gonode,
// fun) name BEAM code, which gonode cannot run: the first gets
// SPAWN_REPLY notsup, the second {Res, error, {erpc, notsup}}.

// FunctionName is the gonode function that a BEAM node's M:F names: in
// the pseudo-modules gonode and 'Elixir.Gonode' (Gonode in Elixir), F
// alone (the node's own functions: shell declarations, functions a Go
// program registered); in any other module, "M.F", as the shell names a
// package's function (strings:'ToUpper' is strings.ToUpper). Arity is
// the length of the argument list, checked by the function.
func FunctionName(module, function string) string {
	switch module {
	case "gonode", "Elixir.Gonode":
		return function
	}
	return module + "." + function
}

// incomingCall is a BEAM caller's erpc call running on this node.
type incomingCall struct {
	reqID  etf.Ref
	caller etf.Pid
	pid    etf.Pid // the stand-in of the SPAWN_REPLY
	res    any     // erpc's Res, the first element of the exit reason
	mfa    etf.Tuple
	answer any // the exit reason whatever the node answers (builtin, or a request gonode cannot run)
}

// rpcTable is a connection's erpc calls in both directions.
type rpcTable struct {
	mu     sync.Mutex
	in     map[proc.Ref]*incomingCall // by the call's ref (its ReqId)
	byPid  map[uint32]proc.Ref        // a stand-in's serial -> its call
	out    map[proc.Ref]*outgoingCall // by the call's ref (dist's, sent as ReqId)
	serial uint32                     // the last stand-in's serial
	casts  uint32                     // the last cast's ReqId word
}

func (t *rpcTable) init() {
	if t.in == nil {
		t.in, t.byPid, t.out = make(map[proc.Ref]*incomingCall), make(map[uint32]proc.Ref), make(map[proc.Ref]*outgoingCall)
	}
}

var (
	atomErpc   = etf.Atom("erpc")
	atomMon    = etf.Atom("monitor")
	atomLink   = etf.Atom("link")
	atomReturn = etf.Atom("return")
	atomError  = etf.Atom("error")
	atomExit   = etf.Atom("exit")
	atomThrow  = etf.Atom("throw")
)

// spawnRequest handles a SPAWN_REQUEST: an erpc call or cast becomes a
// KindCall or KindCast; anything else is refused notsup.
func (d *decoding) spawnRequest(op int64, args any) (dist.Message, []byte) {
	c := d.c
	mfa, _ := d.ctl[4].(etf.Tuple)
	opts, _ := d.ctl[5].([]any)
	reqID, okRef := d.ctl[1].(etf.Ref)
	caller, okPid := d.ctl[2].(etf.Pid)
	a, _ := args.([]any)
	if !okRef || !okPid || len(mfa) != 3 || mfa[0] != atomErpc {
		return dist.Message{}, d.refuseSpawn()
	}
	monitor, link := false, false
	for _, o := range opts {
		monitor = monitor || o == atomMon
		link = link || o == atomLink
	}
	switch {
	case mfa[1] == etf.Atom("execute_call") && mfa[2] == int64(4) && len(a) == 4 && monitor && !link:
		call := &incomingCall{reqID: reqID, caller: caller, res: a[0], mfa: etf.Tuple{a[1], a[2], a[3]}}
		fn, fnArgs := c.callee(call)
		ref := c.refs.fromWire(reqID)
		c.rpc.mu.Lock()
		c.rpc.init()
		c.rpc.serial++
		call.pid = etf.Pid{Node: etf.Atom(c.self), Serial: c.rpc.serial, Creation: c.creation}
		c.rpc.in[ref] = call
		c.rpc.byPid[call.pid.Serial] = ref
		c.rpc.mu.Unlock()
		reply := c.packet(etf.Tuple{int64(opSpawnReply), reqID, caller, int64(2), call.pid}, nil, false)
		return dist.Message{Kind: dist.KindCall, From: pidFromWire(caller), To: proc.Pid{Node: c.self}, Ref: ref, Fn: fn, Args: fnArgs}, reply
	case mfa[1] == etf.Atom("execute_cast") && mfa[2] == int64(3) && len(a) == 3 && !monitor && !link:
		m, okM := a[0].(etf.Atom)
		f, okF := a[1].(etf.Atom)
		l, okA := argList(a[2])
		if !okM || !okF || !okA {
			return dist.Message{}, d.refuseSpawn()
		}
		c.rpc.mu.Lock()
		c.rpc.serial++
		pid := etf.Pid{Node: etf.Atom(c.self), Serial: c.rpc.serial, Creation: c.creation}
		c.rpc.mu.Unlock()
		reply := c.packet(etf.Tuple{int64(opSpawnReply), reqID, caller, int64(0), pid}, nil, false)
		return dist.Message{Kind: dist.KindCast, From: pidFromWire(caller), To: proc.Pid{Node: c.self},
			Fn: FunctionName(string(m), string(f)), Args: c.fromTerm(l, 0).([]any)}, reply
	}
	return dist.Message{}, d.refuseSpawn()
}

// callee names what a call runs and its arguments, or sets the call's
// answer when the codec answers it itself: the builtins, and requests
// that are no Erlang function call gonode can make (erpc's own badarg;
// a fun, which is BEAM code).
func (c *Codec) callee(call *incomingCall) (string, []any) {
	m, okM := call.mfa[0].(etf.Atom)
	f, okF := call.mfa[1].(etf.Atom)
	args, okA := argList(call.mfa[2])
	if !okM || !okF || !okA {
		call.answer = etf.Tuple{call.res, atomError, etf.Tuple{atomErpc, etf.Atom("badarg")}}
		return "erpc:badarg", nil
	}
	switch v, ok := c.builtin(string(m), string(f), len(args)); {
	case ok:
		call.answer = etf.Tuple{call.res, atomReturn, v}
	case m == "erlang" && f == "apply" && len(args) == 2:
		call.answer = etf.Tuple{call.res, atomError, etf.Tuple{atomErpc, etf.Atom("notsup")}}
	}
	// A call the codec answers still goes through the node (as a name no
	// function has), so that its answer is written after the SPAWN_REPLY.
	// fromTerm converts in place: the stack of an error gets a copy.
	goArgs := c.fromTerm(args, 0).([]any)
	call.mfa[2] = c.toTerm(goArgs, 0)
	return FunctionName(string(m), string(f)), goArgs
}

// argList reads erpc's argument list: a proper list, or a Charlist when
// every argument is an integer below 256 (the BEAM sends [42] as a
// string).
func argList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case etf.Charlist:
		out := make([]any, len(l))
		for i := 0; i < len(l); i++ {
			out[i] = int64(l[i])
		}
		return out, true
	}
	return nil, false
}

// builtin answers the functions of the erlang module that BEAM tools
// call on every node: node/0 and is_alive/0.
func (c *Codec) builtin(m, f string, arity int) (any, bool) {
	if m != "erlang" || arity != 0 {
		return nil, false
	}
	switch f {
	case "node":
		return etf.Atom(c.self), true
	case "is_alive":
		return true, true
	}
	return nil, false
}

// callExit encodes the answer to the incoming call m.Ref (a KindReply)
// as the DOWN erpc waits for. ok is false if m answers no erpc call.
func (c *Codec) callExit(dst []byte, m *dist.Message) ([]byte, bool, error) {
	c.rpc.mu.Lock()
	call := c.rpc.in[m.Ref]
	c.rpc.mu.Unlock()
	if call == nil {
		return dst, false, nil
	}
	reason := call.answer
	switch {
	case reason != nil:
	case m.Err == nil:
		reason = etf.Tuple{call.res, atomReturn, c.toTerm(m.Payload, 0)}
	default:
		reason = call.errorReason(m.Err)
	}
	out, err := c.appendPacket(dst, etf.Tuple{int64(opPMonitorEx), call.pid, call.caller, call.reqID}, reason, true)
	if err != nil {
		// dist then sends a badarg reply in its place (see dist's sendable).
		return dst, true, fmt.Errorf("%w: %v", dist.ErrUnencodable, err)
	}
	c.rpc.mu.Lock()
	delete(c.rpc.in, m.Ref)
	delete(c.rpc.byPid, call.pid.Serial)
	c.rpc.mu.Unlock()
	return out, true, nil
}

// arityError is the text of dist.Adapt's error for a wrong number of
// arguments: Erlang names a function by its arity, so M:F with another
// arity is an undefined function.
var arityError = regexp.MustCompile(`takes (at least )?\d+ arguments, got \d+`)

// errorReason is the exit reason for a call that failed on gonode: undef
// (also for a wrong arity) and badarg as Erlang raises them, with the
// stack [{M, F, Args, []}] erpc gives; a Go error, a panic and gonode's
// other failures as error {Kind, <<Message>>}; a process exit as exit
// <<Reason>>.
func (call *incomingCall) errorReason(re *dist.RemoteError) any {
	stack := []any{etf.Tuple{call.mfa[0], call.mfa[1], call.mfa[2], []any{}}}
	switch {
	case re.Kind == dist.RemoteUndef || re.Kind == dist.RemoteBadarg && arityError.MatchString(re.Message):
		return etf.Tuple{call.res, atomError, etf.Atom("undef"), stack}
	case re.Kind == dist.RemoteBadarg:
		return etf.Tuple{call.res, atomError, etf.Atom("badarg"), stack}
	case re.Kind == dist.RemoteExit:
		return etf.Tuple{call.res, atomExit, re.Message}
	}
	msg := re.Message
	if re.Kind == dist.RemotePanic {
		msg, _, _ = strings.Cut(msg, "\n") // the panic value; the Go stack stays in gonode's log
	}
	return etf.Tuple{call.res, atomError, etf.Tuple{etf.Atom(re.Kind), msg}, stack}
}

// cancelIncoming turns the caller's giving up (a DEMONITOR_P of the call's
// stand-in, as erpc does on its timeout, or an EXIT2 to it) into dist's
// KindCancel. ok is false if pid is no stand-in of a running call.
func (c *Codec) cancelIncoming(pid proc.Pid) (dist.Message, bool) {
	if pid.Node != c.self || pid.ID != 0 || pid.Serial == 0 {
		return dist.Message{}, false
	}
	c.rpc.mu.Lock()
	defer c.rpc.mu.Unlock()
	ref, ok := c.rpc.byPid[pid.Serial]
	if !ok {
		return dist.Message{}, false
	}
	delete(c.rpc.byPid, pid.Serial)
	return dist.Message{Kind: dist.KindCancel, Ref: ref}, true
}
