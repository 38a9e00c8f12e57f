package dist

import (
	"context"
	"errors"
	"fmt"
	"sync"

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

	stats rpcStats // requests served and failed (stats.go)
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

// dispatch handles one message from a peer, on the connection's reader.
func (n *Node) dispatch(c *conn, m *Message) {
	n.traceTraffic(c.peer.Name, false, m)
	if sig, ok := m.signal(); ok {
		n.proc.Deliver(sig)
		return
	}
	switch m.Kind {
	case KindCall, KindCast:
		n.handleCall(c, *m)
	case KindReply:
		if p := n.rpc.take(m.Ref); p != nil {
			p.reply <- *m
		}
	case KindSpawnRequest:
		n.handleSpawn(c, *m)
	case KindSpawnReply:
		n.spawnReplied(*m)
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
