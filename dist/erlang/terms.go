package erlang

import (
	"sync"

	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/erlang/handshake"
	"github.com/gonode/gonode/proc"
)

// Terms and gonode's values meet here, in one place, on top of etf's
// mapping (see etf's doc.go): etf gives wire values (etf.Pid, etf.Ref,
// etf.Atom, int64), proc wants runtime handles (proc.Pid, proc.Ref,
// proc.Atom) and dist's codecs deliver integers as int.
//
// Going out, gonode's own types become the terms an Erlang program
// expects: proc.Atom an atom (so normal, kill, killed, noproc and
// noconnection are the atoms of the same name, both ways); proc.Name
// {Name, Node}; an exit message {'EXIT', Pid, Reason}; a down message
// {'DOWN', Ref, process, Pid | {Name, Node}, Reason}; a panic {Value,
// Stack}; a CallRequest {'$gen_call', {From, Ref}, Request}; a CallReply
// {Ref, Reply}; *proc.ExitError its reason. Containers ([]any, etf.Tuple,
// map[string]any, map[any]any, etf.Map) are walked; other values go to
// etf as they are (a struct of another type cannot be sent).
//
// Coming in, atoms are proc.Atom, pids proc.Pid, refs proc.Ref, integers
// int (*big.Int beyond int64), tuples stay etf.Tuple, lists []any, maps
// map[any]any, binaries string, with the same walk inside containers.

// maxDepth bounds the walk, as the codecs bound nesting: etf refuses
// deeper terms anyway, and a Go value this deep is a cycle.
const maxDepth = 256

// refWords keeps the words beyond the third of the refs a peer sent with 4
// or 5 words (OTP 26 and later make some), since proc.Ref holds 3: such a
// ref is delivered as the proc.Ref of its first three words, and goes
// back out whole while this table remembers it. It is bounded: past
// maxLongRefs it is cleared, and a long ref older than that goes back
// with 3 words, which its node no longer recognises (a demonitor then
// does nothing). OTP 25 makes refs of 3 words only.
type refWords struct {
	mu   sync.Mutex
	long map[proc.Ref]etf.Ref
}

const maxLongRefs = 1 << 14

func (t *refWords) fromWire(r etf.Ref) proc.Ref {
	p := proc.Ref{Node: string(r.Node), Creation: r.Creation}
	copy(p.ID[:], r.ID[:min(int(r.Len), 3)])
	if r.Len > 3 {
		t.mu.Lock()
		if t.long == nil || len(t.long) >= maxLongRefs {
			t.long = make(map[proc.Ref]etf.Ref)
		}
		t.long[p] = r
		t.mu.Unlock()
	}
	return p
}

func (t *refWords) toWire(p proc.Ref) etf.Ref {
	t.mu.Lock()
	r, ok := t.long[p]
	t.mu.Unlock()
	if ok {
		return r
	}
	r = etf.Ref{Node: etf.Atom(p.Node), Creation: p.Creation, Len: 3}
	copy(r.ID[:], p.ID[:])
	return r
}

func pidToWire(p proc.Pid) etf.Pid {
	return etf.Pid{Node: etf.Atom(p.Node), ID: p.ID, Serial: p.Serial, Creation: p.Creation}
}

func pidFromWire(p etf.Pid) proc.Pid {
	return proc.Pid{Node: string(p.Node), ID: p.ID, Serial: p.Serial, Creation: p.Creation}
}

// toTerm converts a Go value for etf.
func (c *Codec) toTerm(v any, depth int) any {
	if depth > maxDepth {
		return v // etf refuses it with ErrLimit
	}
	depth++
	switch x := v.(type) {
	case proc.Atom:
		return etf.Atom(x)
	case proc.Pid:
		if x.IsZero() {
			return etf.Atom("undefined")
		}
		return pidToWire(x)
	case proc.Ref:
		return c.refs.toWire(x)
	case proc.Name:
		node := x.Node
		if node == "" {
			node = c.self
		}
		return etf.Tuple{etf.Atom(x.Name), etf.Atom(node)}
	case proc.ExitMsg:
		return etf.Tuple{etf.Atom("EXIT"), c.toTerm(x.From, depth), c.toTerm(x.Reason, depth)}
	case proc.DownMsg:
		var obj any = c.toTerm(x.Pid, depth)
		if x.Name.Name != "" {
			obj = c.toTerm(x.Name, depth)
		}
		return etf.Tuple{etf.Atom("DOWN"), c.toTerm(x.Ref, depth), etf.Atom("process"), obj, c.toTerm(x.Reason, depth)}
	case proc.PanicReason:
		return etf.Tuple{c.toTerm(x.Value, depth), x.StackText()}
	case *proc.PanicReason:
		return etf.Tuple{c.toTerm(x.Value, depth), x.StackText()}
	case *proc.ExitError:
		return c.toTerm(x.Reason, depth)
	case proc.CallRequest:
		return etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{c.toTerm(x.From, depth), c.toTerm(x.Ref, depth)}, c.toTerm(x.Request, depth)}
	case proc.CallReply:
		// gen:reply's {Tag, Reply}: a BEAM caller from OTP 24 on (ALIAS)
		// made its Tag [alias | Mref] (see callRequest).
		var tag any = c.refs.toWire(x.Ref)
		if c.agreed&handshake.FlagAlias != 0 {
			tag = etf.ImproperList{Elems: []any{etf.Atom("alias")}, Tail: tag}
		}
		return etf.Tuple{tag, c.toTerm(x.Reply, depth)}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = c.toTerm(e, depth)
		}
		return out
	case etf.Tuple:
		out := make(etf.Tuple, len(x))
		for i, e := range x {
			out[i] = c.toTerm(e, depth)
		}
		return out
	case map[string]any:
		out := make(map[any]any, len(x))
		for k, e := range x {
			out[k] = c.toTerm(e, depth)
		}
		return out
	case map[any]any:
		out := make(map[any]any, len(x))
		for k, e := range x {
			out[c.toTerm(k, depth)] = c.toTerm(e, depth)
		}
		return out
	case etf.Map:
		out := make(etf.Map, len(x))
		for i, p := range x {
			out[i] = etf.Pair{Key: c.toTerm(p.Key, depth), Value: c.toTerm(p.Value, depth)}
		}
		return out
	case etf.ImproperList: // a gen_call's [alias | Ref] tag
		out := etf.ImproperList{Elems: make([]any, len(x.Elems)), Tail: c.toTerm(x.Tail, depth)}
		for i, e := range x.Elems {
			out.Elems[i] = c.toTerm(e, depth)
		}
		return out
	case etf.Struct:
		out := etf.Struct{Name: x.Name, Fields: make(map[etf.Atom]any, len(x.Fields))}
		for k, e := range x.Fields {
			out.Fields[k] = c.toTerm(e, depth)
		}
		return out
	}
	return v
}

// callRequest recognises a gen_call, {'$gen_call', {From, Tag}, Request},
// as gen:call and GenServer.call send it, so that a gonode process
// answers it as any call (proc.CallRequest and Process.Reply). Tag is
// [alias | Mref] from OTP 24 on (a peer with ALIAS), a ref before; the
// reply goes back in the same form (see toTerm). Only the whole message
// is a call; the same tuple inside other data stays a tuple.
func (c *Codec) callRequest(v any) (proc.CallRequest, bool) {
	t, ok := v.(etf.Tuple)
	if !ok || len(t) != 3 || t[0] != etf.Atom("$gen_call") {
		return proc.CallRequest{}, false
	}
	ft, ok := t[1].(etf.Tuple)
	if !ok || len(ft) != 2 {
		return proc.CallRequest{}, false
	}
	from, ok := ft[0].(etf.Pid)
	if !ok {
		return proc.CallRequest{}, false
	}
	tag := ft[1]
	alias := c.agreed&handshake.FlagAlias != 0
	if l, ok := tag.(etf.ImproperList); ok && alias && len(l.Elems) == 1 && l.Elems[0] == etf.Atom("alias") {
		tag = l.Tail
	} else if alias {
		return proc.CallRequest{}, false // a plain ref would get its reply tagged [alias | Ref]
	}
	ref, ok := tag.(etf.Ref)
	if !ok {
		return proc.CallRequest{}, false
	}
	return proc.CallRequest{From: pidFromWire(from), Ref: c.refs.fromWire(ref), Request: c.fromTerm(t[2], 0)}, true
}

// payload converts a message's payload: a gen_call becomes a
// proc.CallRequest, the reply to one of this node's (gencall.go) a
// proc.CallReply, anything else goes through fromTerm.
func (c *Codec) payload(v any) any {
	if req, ok := c.callRequest(v); ok {
		return req
	}
	if rep, ok := c.callReply(v); ok {
		return rep
	}
	return c.fromTerm(v, 0)
}

// fromTerm converts a decoded term for gonode's processes.
func (c *Codec) fromTerm(v any, depth int) any {
	if depth > maxDepth {
		return v // etf never decodes deeper
	}
	depth++
	switch x := v.(type) {
	case int64:
		return int(x)
	case etf.Atom:
		return proc.Atom(x)
	case etf.Pid:
		return pidFromWire(x)
	case etf.Ref:
		return c.refs.fromWire(x)
	case etf.Tuple:
		for i, e := range x {
			x[i] = c.fromTerm(e, depth)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = c.fromTerm(e, depth)
		}
		return x
	case map[any]any:
		out := make(map[any]any, len(x))
		for k, e := range x {
			out[c.fromTerm(k, depth)] = c.fromTerm(e, depth)
		}
		return out
	case etf.Map:
		for i, p := range x {
			x[i] = etf.Pair{Key: c.fromTerm(p.Key, depth), Value: c.fromTerm(p.Value, depth)}
		}
		return x
	case etf.ImproperList:
		for i, e := range x.Elems {
			x.Elems[i] = c.fromTerm(e, depth)
		}
		x.Tail = c.fromTerm(x.Tail, depth)
		return x
	case etf.Struct:
		for k, e := range x.Fields {
			x.Fields[k] = c.fromTerm(e, depth)
		}
		return x
	}
	return v
}
