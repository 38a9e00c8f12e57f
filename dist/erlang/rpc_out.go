package erlang

import (
	"fmt"
	"strings"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// erpc from gonode: dist's KindCall (Node.RPC, the shell's rpc) to a BEAM
// node goes out as erpc:call does it,
//
//	SPAWN_REQUEST {29, ReqId, Self, GL, {erpc, execute_call, 4}, [monitor]} + [ReqId, M, F, Args]
//
// with the call's ref as both ReqId and Res (Self is process 0 of this
// node, which is no process: the codec takes the answers before they
// would reach it; GL the caller's group leader, or Self, whose io
// requests the codec answers: io.go). The BEAM answers SPAWN_REPLY with the pid of the
// process running the call, or an error atom, and then the DOWN of that
// process, whose reason carries the result; the codec turns either into
// the call's KindReply. dist's KindCancel (the caller's context ended)
// becomes DEMONITOR_P, as erpc's own time-out: the BEAM function runs on,
// and its answer is not sent. KindCast is erpc:cast's {erpc,
// execute_cast, 3} + [M, F, Args].
//
// The function is named "module:function", as Erlang writes an MFA
// (erlang:node, lists:reverse, 'Elixir.String':upcase as
// Elixir.String:upcase); the arity is the number of arguments.

// outgoingCall is a call of this node's running on the BEAM peer.
type outgoingCall struct {
	m, f      etf.Atom
	arity     int
	reqID     etf.Ref
	pid       etf.Pid // the BEAM process running it, once SPAWN_REPLY has come
	started   bool
	abandoned bool // the caller gave up before SPAWN_REPLY: demonitor then
}

// splitMFA parses "module:function".
func splitMFA(m *dist.Message) (etf.Atom, etf.Atom, error) {
	if m.Source != "" {
		return "", "", fmt.Errorf("%w: a BEAM node cannot run a gonode function literal", dist.ErrUnencodable)
	}
	mod, fun, ok := strings.Cut(m.Fn, ":")
	if !ok || mod == "" || fun == "" {
		return "", "", fmt.Errorf("%w: %q: a BEAM node's functions are named module:function (erlang:node, lists:reverse)", dist.ErrUnencodable, m.Fn)
	}
	return etf.Atom(mod), etf.Atom(fun), nil
}

func (c *Codec) argsToTerm(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = c.toTerm(a, 0)
	}
	return out
}

// encodeCall encodes a KindCall or KindCast as erpc's spawn request.
func (c *Codec) encodeCall(dst []byte, m *dist.Message) ([]byte, error) {
	mod, fun, err := splitMFA(m)
	if err != nil {
		return dst, err
	}
	self, gl := c.selfPid(), c.groupLeader(m)
	var reqID etf.Ref
	var ctl etf.Tuple
	var args []any
	if m.Kind == dist.KindCall {
		reqID = c.refs.toWire(m.Ref)
		ctl = etf.Tuple{int64(opSpawnReq), reqID, self, gl, etf.Tuple{atomErpc, etf.Atom("execute_call"), int64(4)}, []any{atomMon}}
		args = []any{reqID, mod, fun, c.argsToTerm(m.Args)}
	} else {
		// A cast has no ref of its own; the SPAWN_REPLY to this one is
		// dropped (see spawnReply).
		c.rpc.mu.Lock()
		c.rpc.casts++
		reqID = etf.Ref{Node: etf.Atom(c.self), Creation: c.creation, Len: 3, ID: [5]uint32{c.rpc.casts, ^uint32(0)}}
		c.rpc.mu.Unlock()
		ctl = etf.Tuple{int64(opSpawnReq), reqID, self, gl, etf.Tuple{atomErpc, etf.Atom("execute_cast"), int64(3)}, []any{}}
		args = []any{mod, fun, c.argsToTerm(m.Args)}
	}
	out, err := c.appendPacket(dst, ctl, args, true)
	if err != nil {
		return dst, fmt.Errorf("%w: %v", dist.ErrUnencodable, err)
	}
	if m.Kind == dist.KindCall {
		c.rpc.mu.Lock()
		c.rpc.init()
		c.rpc.out[m.Ref] = &outgoingCall{m: mod, f: fun, arity: len(m.Args), reqID: reqID}
		c.rpc.mu.Unlock()
	}
	return out, nil
}

// encodeCancel demonitors the BEAM process of a call whose caller gave
// up, as erpc does on its time-out. Before the SPAWN_REPLY there is no
// process to name: the call is marked, and spawnReply demonitors it.
func (c *Codec) encodeCancel(dst []byte, m *dist.Message) ([]byte, error) {
	c.rpc.mu.Lock()
	o := c.rpc.out[m.Ref]
	switch {
	case o == nil:
		c.rpc.mu.Unlock()
		return dst, fmt.Errorf("%w: cancel of a call that is not running", dist.ErrUnencodable)
	case !o.started:
		o.abandoned = true
		c.rpc.mu.Unlock()
		return dst, fmt.Errorf("%w: cancel before the spawn reply: demonitored when it comes", dist.ErrUnencodable)
	}
	delete(c.rpc.out, m.Ref)
	c.rpc.mu.Unlock()
	out, err := c.appendPacket(dst, etf.Tuple{int64(opDemonitorP), c.selfPid(), o.pid, o.reqID}, nil, false)
	if err != nil {
		return dst, fmt.Errorf("%w: %v", dist.ErrUnencodable, err)
	}
	return out, nil
}

// spawnReply takes the BEAM's SPAWN_REPLY to one of this node's calls:
// an error atom answers the call; a pid is kept for a cancel.
func (d *decoding) spawnReply() (dist.Message, []byte) {
	c := d.c
	ref := d.ref(1)
	if d.err != nil {
		return dist.Message{}, nil
	}
	if m, ok := d.spawned(ref); ok {
		return m, nil // to a spawn request of this node's (spawn_out.go)
	}
	d.ignored = dist.ErrIgnored
	c.rpc.mu.Lock()
	o := c.rpc.out[ref]
	if o == nil {
		c.rpc.mu.Unlock()
		if _, failed := d.ctl[4].(etf.Atom); failed {
			if e, ok := c.takeEval(ref); ok { // io.go's M:F(A) could not start
				return d.evalDone(e, nil)
			}
		}
		return dist.Message{}, nil // a cast's, or a reply to a request gonode did not make
	}
	switch r := d.ctl[4].(type) {
	case etf.Pid:
		if o.abandoned {
			delete(c.rpc.out, ref)
			c.rpc.mu.Unlock()
			return dist.Message{}, c.packet(etf.Tuple{int64(opDemonitorP), c.selfPid(), r, o.reqID}, nil, false)
		}
		o.pid, o.started = r, true
		c.rpc.mu.Unlock()
		return dist.Message{}, nil
	case etf.Atom:
		delete(c.rpc.out, ref)
		c.rpc.mu.Unlock()
		kind := dist.RemoteGoError
		switch r {
		case "badarg":
			kind = dist.RemoteBadarg
		case "noconnection":
			kind = dist.RemoteNodeDown
		}
		d.ignored = nil
		return dist.Message{Kind: dist.KindReply, Ref: ref, Err: &dist.RemoteError{Kind: kind,
			Message: fmt.Sprintf("%s: {erpc,%s}", o.mfaString(), quoteAtom(string(r)))}}, nil
	}
	c.rpc.mu.Unlock()
	d.fail(4, "a pid or an atom")
	return dist.Message{}, nil
}

func (o *outgoingCall) mfaString() string {
	return fmt.Sprintf("%s:%s/%d", quoteAtom(string(o.m)), quoteAtom(string(o.f)), o.arity)
}

// takeOutgoing returns the call of this node that the DOWN of ref
// answers, if there is one.
func (c *Codec) takeOutgoing(ref proc.Ref) *outgoingCall {
	c.rpc.mu.Lock()
	defer c.rpc.mu.Unlock()
	o := c.rpc.out[ref]
	if o != nil && o.started {
		delete(c.rpc.out, ref)
		return o
	}
	return nil
}

// result turns the exit reason of the BEAM process that ran a call
// (erpc's protocol, see rpc_in.go) into the call's KindReply. The
// message of an error is what erpc:call would raise in Erlang's syntax.
func (c *Codec) result(o *outgoingCall, ref proc.Ref, reason any) dist.Message {
	r := dist.Message{Kind: dist.KindReply, Ref: ref}
	fail := func(kind string, term any) dist.Message {
		r.Err = &dist.RemoteError{Kind: kind, Message: formatTerm(term)}
		return r
	}
	t, _ := reason.(etf.Tuple)
	if len(t) < 3 || t[0] != any(o.reqID) {
		if reason == etf.Atom("noconnection") {
			return fail(dist.RemoteNodeDown, etf.Tuple{atomErpc, reason})
		}
		return fail(dist.RemoteExit, etf.Tuple{etf.Atom("signal"), reason}) // killed on its node, ...
	}
	switch {
	case t[1] == atomReturn && len(t) == 3:
		r.Payload = c.fromTerm(t[2], 0)
		return r
	case t[1] == atomThrow && len(t) == 3:
		return fail(dist.RemotePanic, etf.Tuple{atomThrow, t[2]})
	case t[1] == atomExit && len(t) == 3:
		return fail(dist.RemoteExit, etf.Tuple{etf.Atom("exception"), t[2]})
	case t[1] == atomError && len(t) == 4:
		kind := dist.RemotePanic
		if o.raisedAtCall(t[3]) {
			switch t[2] {
			case etf.Atom("undef"):
				kind = dist.RemoteUndef
			case etf.Atom("badarg"), etf.Atom("function_clause"):
				kind = dist.RemoteBadarg
			}
		}
		return fail(kind, etf.Tuple{etf.Atom("exception"), t[2], t[3]})
	case t[1] == atomError && len(t) == 3:
		if e, ok := t[2].(etf.Tuple); ok && len(e) == 2 && e[1] == etf.Atom("badarg") {
			return fail(dist.RemoteBadarg, e)
		}
		return fail(dist.RemoteGoError, t[2])
	}
	return fail(dist.RemoteExit, etf.Tuple{etf.Atom("signal"), reason})
}

// raisedAtCall says whether the top frame of stack is the function
// called (with its arguments or its arity): undef there means no such
// function, where undef deeper down is a bug of the function's own.
func (o *outgoingCall) raisedAtCall(stack any) bool {
	s, _ := stack.([]any)
	if len(s) == 0 {
		return false
	}
	f, _ := s[0].(etf.Tuple)
	if len(f) < 3 || f[0] != any(o.m) || f[1] != any(o.f) {
		return false
	}
	switch a := f[2].(type) {
	case []any:
		return len(a) == o.arity
	case etf.Charlist: // arguments that are all small integers
		return len(a) == o.arity
	case int64:
		return int(a) == o.arity
	}
	return false
}
