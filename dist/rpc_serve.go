package dist

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/gonode/gonode/proc"
)

// DefaultMaxCallsPerPeer is Config.MaxCallsPerPeer's default. Each call
// running holds a goroutine (a few KiB of stack, more once reflection
// has called the function), and in the shell an interpreter of its own
// (about 1.3 MiB), so 1024 bounds what one peer can pin with calls that
// never return to some 1.3 GiB at worst, while staying far above what
// legitimate use runs at once: asyncStream runs one call per CPU at a
// time, multicall one per node, and a thousand concurrent callers of one
// peer is a load test.
const DefaultMaxCallsPerPeer = 1024

// peerCalls counts the calls and casts of one peer running on this node,
// and holds the cancel function of each call, for the peer's Cancel.
// The entry of a peer stays while it is connected, so that a peer making
// one call at a time does not allocate it for each; it goes once the
// connection has gone (failConn) and nothing of the peer runs.
type peerCalls struct {
	running int
	calls   map[proc.Ref]runningCall
	gone    bool // a connection of the peer went down: drop the entry when nothing runs
}

type runningCall struct {
	conn   *conn // the connection the call came on: only a Cancel from there counts
	cancel context.CancelFunc
}

// logs returns the node's limiter for log lines about peers' requests,
// making it on first use. It is called on a connection's reader, which
// holds a count of n.wg, so the Add never races Wait; the goroutine it
// starts writes what is still suppressed when the node stops.
func (r *rpcState) logs(n *Node) *logLimiter {
	r.logOnce.Do(func() {
		r.logger = newLogLimiter(n.logf, realClock{}, logBurst, logInterval)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			<-n.ctx.Done()
			r.logger.close()
		}()
	})
	return r.logger
}

// maxCalls is the cap of calls and casts running at once for one peer; 0
// means none.
func (n *Node) maxCalls() int {
	switch m := n.cfg.MaxCallsPerPeer; {
	case m == 0:
		return DefaultMaxCallsPerPeer
	case m < 0:
		return 0
	default:
		return m
	}
}

// admit counts a peer's call or cast as running, unless the peer has its
// cap running already. A call's cancel function is kept under its ref.
func (n *Node) admit(c *conn, m *Message, cancel context.CancelFunc) bool {
	r := &n.rpc
	r.inMu.Lock()
	defer r.inMu.Unlock()
	pc := r.incoming[c.peer.Name]
	if pc == nil {
		pc = &peerCalls{calls: make(map[proc.Ref]runningCall)}
		r.incoming[c.peer.Name] = pc
	}
	pc.gone = false // c, whose reader calls this, is up
	if max := n.maxCalls(); max > 0 && pc.running >= max {
		return false
	}
	pc.running++
	if m.Kind == KindCall {
		r.calls++
	}
	if m.Kind == KindCall && !m.Ref.IsZero() {
		pc.calls[m.Ref] = runningCall{conn: c, cancel: cancel}
	}
	return true
}

// finished undoes admit once the call or cast has run.
func (n *Node) finished(c *conn, m *Message) {
	r := &n.rpc
	r.inMu.Lock()
	defer r.inMu.Unlock()
	pc := r.incoming[c.peer.Name]
	if pc == nil {
		return
	}
	if m.Kind == KindCall {
		if rc, ok := pc.calls[m.Ref]; ok && rc.conn == c {
			delete(pc.calls, m.Ref)
		}
		if r.calls--; r.calls == 0 && r.callsEnd != nil {
			close(r.callsEnd)
			r.callsEnd = nil
		}
	}
	if pc.running--; pc.running == 0 && pc.gone {
		delete(r.incoming, c.peer.Name)
	}
}

// awaitCalls waits, d at most, until no peer's call runs here: each
// answers before the node stops, a call that stopped this node (a peer's
// rpc of node.Halt, a remote shell's) included.
func (n *Node) awaitCalls(d time.Duration) {
	r := &n.rpc
	r.inMu.Lock()
	if r.calls == 0 {
		r.inMu.Unlock()
		return
	}
	if r.callsEnd == nil {
		r.callsEnd = make(chan struct{})
	}
	end := r.callsEnd
	r.inMu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-end:
	case <-t.C:
	}
}

// cancelCall cancels the context of the call ref that the peer of c made,
// if it still runs: its caller gave up. The call's reply, if it comes, is
// sent as usual and dropped by the caller.
func (n *Node) cancelCall(c *conn, ref proc.Ref) {
	r := &n.rpc
	r.inMu.Lock()
	var cancel context.CancelFunc
	if pc := r.incoming[c.peer.Name]; pc != nil {
		if rc, ok := pc.calls[ref]; ok && rc.conn == c {
			cancel = rc.cancel
		}
	}
	r.inMu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// running reports how many calls and casts of peer run on this node.
func (n *Node) running(peer string) int {
	n.rpc.inMu.Lock()
	defer n.rpc.inMu.Unlock()
	if pc := n.rpc.incoming[peer]; pc != nil {
		return pc.running
	}
	return 0
}

// resolve finds what a Call, Cast or SpawnRequest asks to run.
func (n *Node) resolve(m *Message) (Callable, *RemoteError) {
	if m.Source != "" {
		if n.cfg.Sources == nil {
			return nil, &RemoteError{Kind: RemoteUndef, Message: "this node does not run function literals sent by peers"}
		}
		fn, err := n.cfg.Sources.Compile(m.Source)
		if err != nil {
			return nil, &RemoteError{Kind: RemoteBadarg, Message: err.Error()}
		}
		return fn, nil
	}
	if n.cfg.Functions != nil {
		if fn, ok := n.cfg.Functions.Resolve(m.Fn); ok {
			return fn, nil
		}
	}
	return nil, &RemoteError{Kind: RemoteUndef, Message: fmt.Sprintf("no function %s on %s", m.Fn, n.cfg.Name)}
}

// invoke runs fn, turning a panic into a RemoteError.
func invoke(ctx context.Context, fn Callable, args []any) (v any, rerr *RemoteError) {
	defer func() {
		if r := recover(); r != nil {
			v, rerr = nil, &RemoteError{Kind: RemotePanic, Message: fmt.Sprintf("%v\n%s", r, debug.Stack())}
		}
	}()
	v, err := fn(ctx, args)
	if err != nil {
		var re *RemoteError
		if errors.As(err, &re) {
			return nil, re
		}
		if errors.Is(err, ErrBadArgs) {
			return nil, &RemoteError{Kind: RemoteBadarg, Message: err.Error()}
		}
		return nil, AsRemoteError(err)
	}
	return v, nil
}

// callIdle is how long a goroutine that ran a peer's call waits for the
// next one before it ends.
const callIdle = 2 * time.Second

// runCall runs f on a goroutine of its own: an idle one left by an earlier
// call if there is one, a new one otherwise. Reusing goroutines saves
// growing a fresh stack for every call (the reflection that calls a
// registered function needs several kilobytes, and the copying took a
// third of a peer's CPU under an rpc load). Called from the connection's
// reader, which holds a count of n.wg, so the Add never races Wait.
func (n *Node) runCall(f func()) {
	select {
	case n.rpc.idle <- f:
		return
	default:
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		idle := time.NewTimer(callIdle)
		defer idle.Stop()
		for {
			f()
			idle.Reset(callIdle)
			select {
			case f = <-n.rpc.idle:
			case <-idle.C:
				return
			case <-n.ctx.Done():
				return
			}
		}
	}()
}

// handleCall runs a peer's Call or Cast on a goroutine of its own, so a slow
// function never holds up the connection's other traffic. A call's context
// is cancelled when the connection to its caller goes, or when its caller
// gives up (a Cancel), as nobody is left to take the answer; a cast runs
// to its end, as it would in Erlang.
//
// It runs on the connection's reader, so the checks are made in the order
// the requests came: one the allow-list refuses is answered at once
// (RemoteRefused), and so is a call over the peer's cap (RemoteBusy; a
// cast over it is dropped), without starting anything. Erlang has no such
// cap: its calls queue in the scheduler without limit.
func (n *Node) handleCall(c *conn, m Message) {
	if !n.allowed(&m) {
		n.rpc.served(false)
		n.refuse(c, &m)
		return
	}
	ctx, cancel := n.ctx, context.CancelFunc(func() {})
	if m.Kind == KindCall {
		ctx, cancel = context.WithCancel(c.calls)
	}
	if !n.admit(c, &m, cancel) {
		cancel()
		n.rpc.served(false)
		n.busy(c, &m)
		return
	}
	n.runCall(func() {
		defer cancel()
		defer n.finished(c, &m)
		fn, rerr := n.resolve(&m)
		var v any
		if rerr == nil {
			v, rerr = invoke(withCallerGroupLeader(ctx, &m), fn, m.Args)
		}
		n.rpc.served(rerr == nil)
		if n.ctx.Err() != nil {
			return // stopping: a node that is going away does not answer
		}
		if m.Kind == KindCast {
			if rerr != nil {
				n.logf("dist: cast %s from %s failed: %v", m.Fn, c.peer.Name, rerr)
			}
			return
		}
		_ = c.send(Message{Kind: KindReply, To: m.From, Ref: m.Ref, Payload: v, Err: rerr}, false)
	})
}

// busy answers a call over the peer's cap, or drops a cast, and logs it.
func (n *Node) busy(c *conn, m *Message) {
	max := n.maxCalls()
	n.rpc.logs(n).log("busy "+c.peer.Name, "dist: %s has %d calls running here, its limit: %s of %s refused",
		c.peer.Name, max, requestVerb(m.Kind), describeRequest(m))
	if m.Kind == KindCall {
		_ = c.send(Message{Kind: KindReply, To: m.From, Ref: m.Ref, Err: &RemoteError{Kind: RemoteBusy,
			Message: fmt.Sprintf("%s runs %d calls from %s already, its limit", n.cfg.Name, max, c.peer.Name)}}, false)
	}
}
