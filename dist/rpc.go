package dist

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
)

// Callable runs a function with arguments that came from another node. The
// context is cancelled when the node stops; for a spawned process it also
// carries the process (see ProcessFrom).
type Callable func(ctx context.Context, args []any) (any, error)

// Resolver turns a function name from a peer's rpc or spawn request into
// something to run. The shell resolves the functions declared in its
// session; Go programs register theirs in a Funcs.
type Resolver interface {
	Resolve(name string) (Callable, bool)
}

// SourceRunner compiles the source text of a function literal sent by a
// peer's shell (spawn of a func literal); dist only carries it.
type SourceRunner interface {
	Compile(source string) (Callable, error)
}

// Errors of remote calls, matched with errors.Is against a *RemoteError.
var (
	ErrUndef   = errors.New("dist: no such function on the peer")
	ErrBadArgs = errors.New("dist: arguments do not fit the function")
	ErrPanic   = errors.New("dist: the function panicked")
	// ErrBusy: the peer already runs as many calls from this node as it
	// allows (Config.MaxCallsPerPeer); try again later.
	ErrBusy = errors.New("dist: the peer is busy with this node's calls")
	// ErrRefusedCall: the peer's allow-list (Config.RPCAllow) does not let
	// this node run that function.
	ErrRefusedCall = errors.New("dist: refused by the peer's rpc allow-list")
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

type ctxKey struct{}

type spawnCtx struct {
	p           *proc.Process
	groupLeader proc.Pid
}

// ProcessFrom returns the process a spawned Callable runs as, and the
// group leader its output should go to (the spawning node's shell, or the
// zero pid).
func ProcessFrom(ctx context.Context) (*proc.Process, proc.Pid, bool) {
	s, ok := ctx.Value(ctxKey{}).(spawnCtx)
	return s.p, s.groupLeader, ok
}

// rpcState matches replies to the calls and spawn requests waiting for them.
type rpcState struct {
	mu      sync.Mutex
	pending map[proc.Ref]*pendingReq // guarded by mu

	idle chan func() // unbuffered: received from by call goroutines waiting for work (see runCall)

	inMu     sync.Mutex
	incoming map[string]*peerCalls // guarded by inMu: what each peer (by name) runs here now
	calls    int                   // guarded by inMu: calls (not casts) running here, all peers
	callsEnd chan struct{}         // guarded by inMu: if not nil, closed when calls reaches 0 (Close waits)

	logOnce sync.Once
	logger  *logLimiter // refusals and busy answers, rate-limited; made by logs
}

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

type pendingReq struct {
	node    string
	conn    *conn        // the connection the request went out on: only its end fails it
	reply   chan Message // buffered: one reply
	parent  proc.Pid     // spawn: the process to link or monitor the child from
	link    bool
	monitor bool
}

func (r *rpcState) init() {
	r.pending = make(map[proc.Ref]*pendingReq)
	r.idle = make(chan func())
	r.incoming = make(map[string]*peerCalls)
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

func (r *rpcState) add(ref proc.Ref, p *pendingReq) {
	r.mu.Lock()
	r.pending[ref] = p
	r.mu.Unlock()
}

func (r *rpcState) take(ref proc.Ref) *pendingReq {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[ref]
	delete(r.pending, ref)
	return p
}

// failConn fails every request waiting on the connection c, as net/rpc
// fails pending calls with ErrShutdown when its connection breaks, and
// lets the count of calls its peer runs here go once they end. It is
// keyed by connection, not by node name: requests sent over a newer
// connection to the same node (a restarted peer) are not its business.
func (r *rpcState) failConn(c *conn, reason error) {
	r.inMu.Lock()
	if pc := r.incoming[c.peer.Name]; pc != nil {
		if pc.running == 0 {
			delete(r.incoming, c.peer.Name)
		} else {
			pc.gone = true
		}
	}
	r.inMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for ref, p := range r.pending {
		if p.conn == c {
			delete(r.pending, ref)
			p.reply <- Message{Err: &RemoteError{Kind: RemoteNodeDown, Message: fmt.Sprintf("%s: %v", p.node, reason)}}
		}
	}
}

// RPC calls the function fn on node with args and returns its result
// (Erlang's erpc:call). Errors: a *RemoteError for failures on the peer
// (errors.Is with ErrUndef, ErrBadArgs, ErrPanic, ErrNodeDown), ctx.Err()
// wrapped with proc.ErrTimeout semantics when ctx ends first.
func (n *Node) RPC(ctx context.Context, node, fn string, args ...any) (any, error) {
	return n.call(ctx, node, Message{Kind: KindCall, Fn: fn, Args: args})
}

// RPCSource is RPC with the source text of a function literal to run
// instead of a named function.
func (n *Node) RPCSource(ctx context.Context, node, source string, args ...any) (any, error) {
	return n.call(ctx, node, Message{Kind: KindCall, Source: source, Args: args})
}

func (n *Node) call(ctx context.Context, node string, m Message) (any, error) {
	if gl, ok := GroupLeader(ctx); ok {
		m.Payload = gl
	}
	if node == n.cfg.Name {
		return n.callLocal(ctx, m)
	}
	if err := n.Connect(ctx, node); err != nil {
		return nil, fmt.Errorf("rpc %s on %s: %w: %w", m.Fn, node, ErrNodeDown, err)
	}
	c := n.connFor(node)
	if c == nil {
		return nil, fmt.Errorf("rpc %s on %s: %w", m.Fn, node, ErrNodeDown)
	}
	m.Ref = n.proc.MakeRef()
	p := &pendingReq{node: node, conn: c, reply: make(chan Message, 1)}
	n.rpc.add(m.Ref, p)
	if err := c.sendCtx(ctx, m); err != nil {
		n.rpc.take(m.Ref)
		return nil, fmt.Errorf("rpc %s on %s: %w", m.Fn, node, err)
	}
	select {
	case r := <-p.reply:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Payload, nil
	case <-ctx.Done():
		if n.rpc.take(m.Ref) != nil && c.peer.Flags&wire.FlagCallCancel != 0 {
			// No reply yet: tell the peer, which cancels the call's
			// context. A reply already on its way is dropped.
			_ = c.send(Message{Kind: KindCancel, Ref: m.Ref}, false)
		}
		return nil, fmt.Errorf("rpc %s on %s: %w (%w)", m.Fn, node, proc.ErrTimeout, ctx.Err())
	}
}

// callLocal runs a call addressed to this node, as erpc does for node().
// Arguments and result go through the codec as they would between nodes,
// so a call gives the same types whichever node it names.
func (n *Node) callLocal(ctx context.Context, m Message) (any, error) {
	m, err := n.roundTrip(m)
	if err != nil {
		return nil, err
	}
	fn, rerr := n.resolve(&m)
	if rerr != nil {
		return nil, rerr
	}
	v, rerr := invoke(withCallerGroupLeader(ctx, &m), fn, m.Args)
	if rerr != nil {
		return nil, rerr
	}
	r, err := n.roundTrip(Message{Kind: KindReply, Payload: v})
	if err != nil {
		return nil, err
	}
	return r.Payload, nil
}

func (n *Node) roundTrip(m Message) (Message, error) {
	b, err := n.codec.Encode(nil, &m)
	if err != nil {
		return Message{}, &RemoteError{Kind: RemoteBadarg, Message: err.Error()}
	}
	return n.codec.Decode(b)
}

// Cast runs fn on node with args without waiting for, or getting, a result
// (erpc:cast). It fails only if node cannot be reached.
func (n *Node) Cast(ctx context.Context, node, fn string, args ...any) error {
	if err := n.Connect(ctx, node); err != nil {
		return fmt.Errorf("cast %s on %s: %w: %w", fn, node, ErrNodeDown, err)
	}
	c := n.connFor(node)
	if c == nil {
		return fmt.Errorf("cast %s on %s: %w", fn, node, ErrNodeDown)
	}
	m := Message{Kind: KindCast, Fn: fn, Args: args}
	if gl, ok := GroupLeader(ctx); ok {
		m.Payload = gl
	}
	return c.sendCtx(ctx, m)
}

// Result is one node's answer to a Multicall.
type Result struct {
	Node  string
	Value any
	Err   error
}

// Multicall calls fn with args on every node in nodes at once and returns
// their answers in the same order (erpc:multicall).
func (n *Node) Multicall(ctx context.Context, nodes []string, fn string, args ...any) []Result {
	out := make([]Result, len(nodes))
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := n.RPC(ctx, node, fn, args...)
			out[i] = Result{Node: node, Value: v, Err: err}
		}()
	}
	wg.Wait()
	return out
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
		n.refuse(c, &m)
		return
	}
	ctx, cancel := n.ctx, context.CancelFunc(func() {})
	if m.Kind == KindCall {
		ctx, cancel = context.WithCancel(c.calls)
	}
	if !n.admit(c, &m, cancel) {
		cancel()
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

// SpawnOptions for SpawnRemote.
type SpawnOptions struct {
	Link, Monitor bool
	Supervised    bool     // a supervisor reports the new process's crashes; the node does not (proc.SpawnOptions.Supervised)
	Source        string   // source of a function literal to run instead of a named function
	GroupLeader   proc.Pid // where the new process's output goes (usually the caller's shell)
}

// SpawnRemote starts fn(args...) as a process on node and returns its pid
// (Erlang's spawn_request). With Link or Monitor, the process parent (which
// must be alive) is linked to it or monitors it; the link or monitor is in
// place before the new process runs, and the monitor's Ref is returned.
func (n *Node) SpawnRemote(ctx context.Context, parent *proc.Process, node, fn string, args []any, o SpawnOptions) (proc.Pid, proc.Ref, error) {
	if (o.Link || o.Monitor) && parent == nil {
		return proc.Pid{}, proc.Ref{}, errors.New("dist: link or monitor at spawn needs a spawning process")
	}
	if err := n.Connect(ctx, node); err != nil {
		return proc.Pid{}, proc.Ref{}, fmt.Errorf("spawn on %s: %w: %w", node, ErrNodeDown, err)
	}
	c := n.connFor(node)
	if c == nil {
		return proc.Pid{}, proc.Ref{}, fmt.Errorf("spawn on %s: %w", node, ErrNodeDown)
	}
	m := Message{Kind: KindSpawnRequest, Ref: n.proc.MakeRef(), Fn: fn, Args: args, Source: o.Source,
		Link: o.Link, Monitor: o.Monitor, Supervised: o.Supervised, Payload: o.GroupLeader}
	p := &pendingReq{node: node, conn: c, reply: make(chan Message, 1), link: o.Link, monitor: o.Monitor}
	if parent != nil {
		m.From, p.parent = parent.Pid(), parent.Pid()
	}
	n.rpc.add(m.Ref, p)
	if err := c.sendCtx(ctx, m); err != nil {
		n.rpc.take(m.Ref)
		return proc.Pid{}, proc.Ref{}, fmt.Errorf("spawn on %s: %w", node, err)
	}
	select {
	case r := <-p.reply:
		if r.Err != nil {
			return proc.Pid{}, proc.Ref{}, r.Err
		}
		var ref proc.Ref
		if o.Monitor {
			ref = m.Ref
		}
		return r.From, ref, nil
	case <-ctx.Done():
		// The process may still start; without the reply we cannot link it.
		n.rpc.take(m.Ref)
		return proc.Pid{}, proc.Ref{}, fmt.Errorf("spawn on %s: %w (%w)", node, proc.ErrTimeout, ctx.Err())
	}
}

// spawnReplied completes a SpawnRemote. It runs on the connection's reader,
// before any later frame, so the link or monitor is in place before any
// exit signal of the new process is delivered.
func (n *Node) spawnReplied(m Message) {
	p := n.rpc.take(m.Ref)
	if p == nil {
		if m.Err == nil && !m.From.IsZero() {
			// Nobody waits any more (timed out): the orphan is not ours to keep.
			_ = n.Forward(proc.Signal{Kind: proc.SigExit2, To: m.From, Msg: proc.Kill})
		}
		return
	}
	if m.Err == nil && (p.link || p.monitor) {
		var ref proc.Ref
		if p.monitor {
			ref = m.Ref
		}
		n.proc.AdoptRemote(p.parent, m.From, p.link, ref)
	}
	p.reply <- m
}

// handleSpawn starts the process a peer asked for. The new process sends
// the reply itself before running, so the reply precedes on the wire any
// signal the process causes.
func (n *Node) handleSpawn(c *conn, m Message) {
	if !n.allowed(&m) {
		n.refuse(c, &m)
		return
	}
	fn, rerr := n.resolve(&m)
	if rerr != nil {
		_ = c.send(Message{Kind: KindSpawnReply, To: m.From, Ref: m.Ref, Err: rerr}, false)
		return
	}
	gl, _ := m.Payload.(proc.Pid)
	var monitor proc.Ref
	if m.Monitor {
		monitor = m.Ref
	}
	_, err := n.proc.SpawnFor(m.From, m.Link, monitor, func(p *proc.Process) {
		_ = c.send(Message{Kind: KindSpawnReply, From: p.Pid(), To: m.From, Ref: m.Ref}, false)
		ctx := context.WithValue(p.Context(), ctxKey{}, spawnCtx{p: p, groupLeader: gl})
		if _, err := fn(ctx, m.Args); err != nil {
			p.Exit(AsRemoteError(err))
		}
	}, proc.SpawnOptions{Label: "spawned by " + c.peer.Name, Supervised: m.Supervised})
	if err != nil {
		_ = c.send(Message{Kind: KindSpawnReply, To: m.From, Ref: m.Ref, Err: AsRemoteError(err)}, false)
	}
}

// dispatch handles one message from a peer, on the connection's reader.
func (n *Node) dispatch(c *conn, m Message) {
	if sig, ok := m.Signal(); ok {
		n.proc.Deliver(sig)
		return
	}
	switch m.Kind {
	case KindCall, KindCast:
		n.handleCall(c, m)
	case KindReply:
		if p := n.rpc.take(m.Ref); p != nil {
			p.reply <- m
		}
	case KindSpawnRequest:
		n.handleSpawn(c, m)
	case KindSpawnReply:
		n.spawnReplied(m)
	case KindCancel:
		n.cancelCall(c, m.Ref)
	case KindPeers:
		names, _ := m.Payload.([]any)
		n.meshWith(names)
	case KindTickTime:
		c.peerTickTime(m.Payload)
	default:
		n.logf("dist: ignoring %v message from %s", m.Kind, c.peer.Name)
	}
}
