package erlang

import (
	"sync"

	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// Calls from gonode to BEAM servers. proc's Call (and CallName, otp's
// server calls) sends a proc.CallRequest, which goes out as gen:call's
// {'$gen_call', {From, Ref}, Request} with a plain Ref (the monitor's, as
// gen:call made it before aliases): gen_server and GenServer then answer
// with gen:reply's {Ref, Reply}, a 2-tuple sent to From. Nothing in that
// tuple says it is a reply, so the codec remembers the Ref of each call it
// sent (genCalls) and delivers a {Ref, Reply} whose Ref it holds as the
// proc.CallReply the caller waits for; any other 2-tuple stays data. The
// monitor under the same Ref gives noproc for a name the BEAM lacks and
// the callee's exit reason if it dies, as gen:call does.
//
// A Ref leaves the table when its reply or its DOWN comes. A call that
// timed out keeps its Ref, so that a late reply is still a CallReply,
// which proc drops (the caller no longer monitors): it never shows up as
// stray data in the caller's mailbox. The table is bounded: past
// maxGenCalls the oldest Ref goes, and a reply to it, if it ever comes,
// arrives as a plain tuple.

// maxGenCalls bounds the gen_calls in flight remembered per connection.
const maxGenCalls = 1 << 12

// genCalls is the table of the Refs of this node's gen_calls to the peer.
// Encode adds (the connection's senders), Decode takes (its reader).
type genCalls struct {
	mu    sync.Mutex // guards refs and order
	refs  map[proc.Ref]struct{}
	order []proc.Ref // oldest first; may hold Refs already taken
}

func (g *genCalls) add(r proc.Ref) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refs == nil {
		g.refs = make(map[proc.Ref]struct{})
	}
	if _, ok := g.refs[r]; ok {
		return
	}
	for len(g.refs) >= maxGenCalls && len(g.order) > 0 {
		delete(g.refs, g.order[0])
		g.order = g.order[1:]
	}
	if len(g.order) >= 2*maxGenCalls {
		// Most of order is Refs already answered: keep those in flight.
		kept := make([]proc.Ref, 0, len(g.refs)+1)
		for _, o := range g.order {
			if _, ok := g.refs[o]; ok {
				kept = append(kept, o)
			}
		}
		g.order = kept
	}
	g.refs[r] = struct{}{}
	g.order = append(g.order, r)
}

// take reports whether r is the Ref of a call in flight, and forgets it.
func (g *genCalls) take(r proc.Ref) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.refs[r]; !ok {
		return false
	}
	delete(g.refs, r)
	if len(g.refs) == 0 {
		g.order = g.order[:0]
	}
	return true
}

func (g *genCalls) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.refs)
}

// noteCall records the Ref of a CallRequest that a process of this node
// sends to the peer.
func (c *Codec) noteCall(payload any) {
	if req, ok := payload.(proc.CallRequest); ok && req.From.Node == c.self {
		c.calls.add(req.Ref)
	}
}

// callReply recognises gen:reply's {Ref, Reply} to a call in flight.
func (c *Codec) callReply(v any) (proc.CallReply, bool) {
	t, ok := v.(etf.Tuple)
	if !ok || len(t) != 2 {
		return proc.CallReply{}, false
	}
	r, ok := t[0].(etf.Ref)
	if !ok || r.Node != etf.Atom(c.self) || r.Len != 3 {
		return proc.CallReply{}, false
	}
	ref := c.refs.fromWire(r)
	if !c.calls.take(ref) {
		return proc.CallReply{}, false
	}
	return proc.CallReply{Ref: ref, Reply: c.fromTerm(t[1], 0)}, true
}
