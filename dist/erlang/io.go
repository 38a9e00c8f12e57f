package erlang

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/erlang/handshake"
	"github.com/gonode/gonode/proc"
)

// The output of a BEAM function called from gonode. erpc's SPAWN_REQUEST
// names the group leader of the process it starts: the caller's (a
// shell's group leader, which dist.WithGroupLeader puts in the call), or
// else process 0 of this node. What the function prints reaches that pid
// as Erlang's io protocol,
//
//	{io_request, From, ReplyAs, Request}  answered  {io_reply, ReplyAs, Reply}
//
// and the codec answers it on the group leader's behalf, as a BEAM group
// leader would: {put_chars, Enc, Chars} (and the old {put_chars, Chars})
// with ok at once; {put_chars, Enc, M, F, A} (io:format's form, with
// io_lib:format as M:F) by evaluating M:F(A) on the peer itself, through
// erpc as a call of this node's (M:F is the peer's own code, run where
// it lives: gonode cannot run io_lib), and then ok; any other request
// (reading, options, geometry) with {error, request}, as a group leader
// without a terminal does. The text goes to the group leader as gonode's
// own output message, [gonode_output, Node, Text] (what a gonode peer's
// process sends its caller's group leader, which a shell prints marked
// with the node), or, with process 0 as group leader (a Go program's
// Node.RPC), into the node's log; a monitor of process 0, which io sets
// on the group leader for each request, is taken and never fires. So
// io:format returns ok and nothing waits for ever.

// outputTag is the first element of gonode's output message, which
// repl's group leader prints (repl/runtime_output.go).
const outputTag = proc.Atom("gonode_output")

// Bounds per connection: group leaders named in spawn requests (a shell
// each), and put_chars requests of the M, F, A form being evaluated.
// Beyond maxIOEvals a request is answered {error, request} at once.
const (
	maxLeaders = 256
	maxIOEvals = 64
)

type ioTable struct {
	mu      sync.Mutex // guards the fields below
	leaders map[proc.Pid]struct{}
	evals   map[proc.Ref]ioEval // by the ReqId of the evaluation's spawn request
	next    uint32              // the last evaluation's ReqId word
}

// ioEval is a put_chars request waiting for its M:F(A).
type ioEval struct {
	from    etf.Pid // the process that asked
	replyAs any
	gl      proc.Pid // the group leader it asked
	latin1  bool
}

// groupLeader is the group leader of a spawn request for m: the caller's
// group leader that dist's call carries in Payload, or process 0.
func (c *Codec) groupLeader(m *dist.Message) etf.Pid {
	gl, ok := m.Payload.(proc.Pid)
	if !ok || gl.IsZero() || gl.Node != c.self {
		return c.selfPid()
	}
	c.io.mu.Lock()
	if c.io.leaders == nil || len(c.io.leaders) >= maxLeaders {
		c.io.leaders = make(map[proc.Pid]struct{})
	}
	c.io.leaders[gl] = struct{}{}
	c.io.mu.Unlock()
	return pidToWire(gl)
}

// isLeader reports whether to is a group leader this codec handed out.
func (c *Codec) isLeader(to proc.Pid) bool {
	if to == pidFromWire(c.selfPid()) {
		return true
	}
	c.io.mu.Lock()
	defer c.io.mu.Unlock()
	_, ok := c.io.leaders[to]
	return ok
}

// ioRequest takes an io_request sent to a group leader of this codec's
// calls. It reports false for any other message.
func (d *decoding) ioRequest(to proc.Pid, msg any) (dist.Message, []byte, bool) {
	c := d.c
	t, ok := msg.(etf.Tuple)
	if !ok || len(t) != 4 || t[0] != etf.Atom("io_request") || d.err != nil || !c.isLeader(to) {
		return dist.Message{}, nil, false
	}
	from, ok := t[1].(etf.Pid)
	if !ok {
		return dist.Message{}, nil, false
	}
	req, _ := t[3].(etf.Tuple)
	latin1 := len(req) == 2 || len(req) == 4 || len(req) > 2 && req[1] == etf.Atom("latin1")
	switch {
	case len(req) < 2 || req[0] != etf.Atom("put_chars"):
	case len(req) == 2 || len(req) == 3: // {put_chars, Chars}, {put_chars, Enc, Chars}
		if text, ok := ioText(req[len(req)-1], latin1); ok {
			return d.printed(to, from, text, c.ioReply(to, from, t[2], etf.Atom("ok")))
		}
	case len(req) == 4 || len(req) == 5: // {put_chars, [Enc,] M, F, A}
		if reply, ok := c.evalChars(ioEval{from: from, replyAs: t[2], gl: to, latin1: latin1}, req[len(req)-3:]); ok {
			d.ignored = dist.ErrIgnored
			return dist.Message{}, reply, true
		}
	}
	d.ignored = dist.ErrIgnored
	return dist.Message{}, c.ioReply(to, from, t[2], etf.Tuple{atomError, etf.Atom("request")}), true
}

// evalChars asks the peer for M:F(A) as erpc:call does, with a ReqId of
// its own (a cast's first word, all ones in the second and third).
func (c *Codec) evalChars(e ioEval, mfa []any) ([]byte, bool) {
	m, okM := mfa[0].(etf.Atom)
	f, okF := mfa[1].(etf.Atom)
	args, okA := mfa[2].([]any)
	if cl, ok := mfa[2].(etf.Charlist); ok {
		args, okA = charlistArgs(cl), true
	}
	if !okM || !okF || !okA {
		return nil, false
	}
	c.io.mu.Lock()
	if len(c.io.evals) >= maxIOEvals {
		c.io.mu.Unlock()
		return nil, false
	}
	c.io.next++
	reqID := etf.Ref{Node: etf.Atom(c.self), Creation: c.creation, Len: 3, ID: [5]uint32{c.io.next, ^uint32(0), ^uint32(0)}}
	if c.io.evals == nil {
		c.io.evals = make(map[proc.Ref]ioEval)
	}
	c.io.evals[c.refs.fromWire(reqID)] = e
	c.io.mu.Unlock()
	self := c.selfPid()
	return c.packet(etf.Tuple{int64(opSpawnReq), reqID, self, self, etf.Tuple{atomErpc, etf.Atom("execute_call"), int64(4)}, []any{atomMon}},
		[]any{reqID, m, f, args}, true), true
}

func charlistArgs(cl etf.Charlist) []any {
	out := make([]any, 0, len(cl))
	for _, r := range string(cl) {
		out = append(out, int64(r))
	}
	return out
}

// takeEval returns the put_chars request that the erpc call of ref
// evaluates, if there is one.
func (c *Codec) takeEval(ref proc.Ref) (ioEval, bool) {
	c.io.mu.Lock()
	defer c.io.mu.Unlock()
	e, ok := c.io.evals[ref]
	delete(c.io.evals, ref)
	return e, ok
}

// evalDone answers the put_chars request of e with the result of its
// M:F(A), reason being the DOWN's (erpc's {ReqId, return, Chars}).
func (d *decoding) evalDone(e ioEval, reason any) (dist.Message, []byte) {
	if r, ok := reason.(etf.Tuple); ok && len(r) == 3 && r[1] == atomReturn {
		if text, ok := ioText(r[2], e.latin1); ok {
			m, reply, _ := d.printed(e.gl, e.from, text, d.c.ioReply(e.gl, e.from, e.replyAs, etf.Atom("ok")))
			return m, reply
		}
	}
	d.ignored = dist.ErrIgnored
	return dist.Message{}, d.c.ioReply(e.gl, e.from, e.replyAs, etf.Tuple{atomError, etf.Atom("request")})
}

// printed delivers text to the group leader gl, or to the log for
// process 0, with reply (the io_reply) answering the process that
// printed.
func (d *decoding) printed(gl proc.Pid, from etf.Pid, text string, reply []byte) (dist.Message, []byte, bool) {
	if gl == pidFromWire(d.c.selfPid()) {
		d.ignored = fmt.Errorf("output of %v, called from this node: %q (%w)", pidFromWire(from), text, dist.ErrIgnored)
		return dist.Message{}, reply, true
	}
	return dist.Message{Kind: dist.KindSend, From: pidFromWire(from), To: gl, Payload: []any{outputTag, d.c.peer, text}}, reply, true
}

// ioReply is the packet of {io_reply, ReplyAs, Reply} from gl to to.
func (c *Codec) ioReply(gl proc.Pid, to etf.Pid, replyAs, reply any) []byte {
	ctl := etf.Tuple{int64(opSend), etf.Atom(""), to}
	if c.agreed&handshake.FlagSendSender != 0 {
		ctl = etf.Tuple{int64(opSendSender), pidToWire(gl), to}
	}
	return c.packet(ctl, etf.Tuple{etf.Atom("io_reply"), replyAs, reply}, true)
}

// ioText flattens chardata (binaries, character codes and lists of
// them, a binary as a tail) to UTF-8. A latin1 binary's bytes are codes.
func ioText(v any, latin1 bool) (string, bool) {
	var b strings.Builder
	ok := writeChars(&b, v, latin1, 0)
	return b.String(), ok
}

func writeChars(b *strings.Builder, v any, latin1 bool, depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch x := v.(type) {
	case string:
		if !latin1 {
			b.WriteString(x)
			return true
		}
		for i := range len(x) {
			b.WriteRune(rune(x[i]))
		}
	case etf.Charlist: // codes, held as UTF-8
		b.WriteString(string(x))
	case int64:
		if x < 0 || x > 0x10FFFF {
			return false
		}
		b.WriteRune(rune(x))
	case []any:
		for _, e := range x {
			if !writeChars(b, e, latin1, depth+1) {
				return false
			}
		}
	case etf.ImproperList:
		for _, e := range x.Elems {
			if !writeChars(b, e, latin1, depth+1) {
				return false
			}
		}
		if _, ok := x.Tail.(string); !ok {
			return false
		}
		return writeChars(b, x.Tail, latin1, depth+1)
	default:
		return false
	}
	return true
}
