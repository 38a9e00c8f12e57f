package dist

import (
	"context"
	"fmt"
	"sync"

	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
)

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
