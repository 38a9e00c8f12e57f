package erlang

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/dist/erlang/handshake"
	"github.com/gonode/gonode/proc"
)

// Codec is the dist.Codec of one connection to a BEAM node: control
// messages (control.go) to and from dist.Message. It is made by
// Protocol's NewConn from what the handshake agreed, and is safe for
// concurrent use (the connection's writer and reader share it).
type Codec struct {
	agreed   uint64 // the flags in effect (handshake.PeerInfo.Agreed)
	self     string // this node's name
	creation uint32 // this node's creation
	peer     string // the peer's name
	refs     refWords
	rpc      rpcTable      // erpc calls both ways (rpc_in.go, rpc_out.go)
	calls    genCalls      // this node's gen_calls in flight (gencall.go)
	frags    reassembly    // fragmented messages being received (fragments.go)
	io       ioTable       // group leaders of this node's erpc calls (io.go)
	spawns   spawnTable    // this node's spawn requests awaiting their reply (spawn_out.go)
	unlinkID atomic.Uint64 // the last UNLINK_ID sent
	fragSeq  atomic.Uint64 // the last sequence id of a message sent in fragments (fragments_out.go)
}

var _ dist.ReplyingCodec = (*Codec)(nil)

// NewCodec returns the codec of a connection between self (of creation
// creation) and peer with the flags agreed.
func NewCodec(self string, creation uint32, peer string, agreed uint64) *Codec {
	return &Codec{agreed: agreed, self: self, creation: creation, peer: peer}
}

// selfPid stands in for the sender of a message sent from outside any
// process where Erlang's control message needs a pid (REG_SEND, EXIT2):
// process number 0 of this node, which is no process.
func (c *Codec) selfPid() etf.Pid {
	return etf.Pid{Node: etf.Atom(c.self), Creation: c.creation}
}

func (c *Codec) from(p proc.Pid) etf.Pid {
	if p.IsZero() {
		return c.selfPid()
	}
	return pidToWire(p)
}

// Encode appends 'p', the control tuple and the message (if the kind
// carries one) for m. Calls, casts, their cancels and replies are erpc's
// (rpc_in.go, rpc_out.go), spawn requests spawn_request's
// (spawn_out.go). What has no Erlang counterpart (a spawn of a function
// literal, gonode's peers and tick-time notices) gives an error wrapping
// dist.ErrUnencodable: the sender of a spawn learns that it is not
// supported; the node's own notices are dropped.
func (c *Codec) Encode(dst []byte, m *dist.Message) ([]byte, error) {
	var ctl etf.Tuple
	var payload any
	hasPayload := false
	switch m.Kind {
	case dist.KindSend:
		if !m.From.IsZero() && c.agreed&handshake.FlagSendSender != 0 {
			ctl = etf.Tuple{int64(opSendSender), pidToWire(m.From), pidToWire(m.To)}
		} else {
			ctl = etf.Tuple{int64(opSend), etf.Atom(""), pidToWire(m.To)}
		}
		payload, hasPayload = m.Payload, true
	case dist.KindRegSend:
		if m.ToName == GlobalNameServer {
			return dst, errGlobal
		}
		ctl = etf.Tuple{int64(opRegSend), c.from(m.From), etf.Atom(""), etf.Atom(m.ToName)}
		payload, hasPayload = m.Payload, true
	case dist.KindLink:
		ctl = etf.Tuple{int64(opLink), pidToWire(m.From), pidToWire(m.To)}
	case dist.KindUnlink:
		// The new link protocol (UNLINK_ID, required of every peer): the
		// peer answers UNLINK_ID_ACK, which Decode takes and drops.
		ctl = etf.Tuple{int64(opUnlinkID), int64(c.unlinkID.Add(1) & (1<<62 - 1)), pidToWire(m.From), pidToWire(m.To)}
	case dist.KindExit:
		ctl = etf.Tuple{int64(opExit), pidToWire(m.From), pidToWire(m.To), c.toTerm(m.Payload, 0)}
	case dist.KindExit2:
		ctl = etf.Tuple{int64(opExit2), c.from(m.From), pidToWire(m.To), c.toTerm(m.Payload, 0)}
	case dist.KindMonitor, dist.KindDemonitor:
		op := int64(opMonitorP)
		if m.Kind == dist.KindDemonitor {
			op = opDemonitorP
		}
		ctl = etf.Tuple{op, pidToWire(m.From), c.proc(m.To, m.ToName), c.refs.toWire(m.Ref)}
	case dist.KindDown:
		ctl = etf.Tuple{int64(opMonitorEx), c.proc(m.From, m.ToName), pidToWire(m.To), c.refs.toWire(m.Ref), c.toTerm(m.Payload, 0)}
	case dist.KindCall, dist.KindCast:
		return c.encodeCall(dst, m)
	case dist.KindSpawnRequest:
		return c.encodeSpawn(dst, m)
	case dist.KindCancel:
		return c.encodeCancel(dst, m)
	case dist.KindReply:
		if out, ok, err := c.callExit(dst, m); ok {
			return out, err
		}
		return dst, fmt.Errorf("%w: a reply to no erpc call of the peer", dist.ErrUnencodable)
	default:
		return dst, fmt.Errorf("%w: %v is not supported over Erlang distribution yet", dist.ErrUnencodable, m.Kind)
	}
	var msg any
	if hasPayload {
		msg = c.toTerm(payload, 0)
	}
	out, err := c.appendPacket(dst, ctl, msg, hasPayload)
	if err != nil {
		return dst, fmt.Errorf("%w: %v", dist.ErrUnencodable, err)
	}
	if hasPayload {
		c.noteCall(payload)
	}
	return out, nil
}

// errGlobal refuses what gonode's cluster/global sends a BEAM node's
// global_name_server: the two name servers speak different protocols,
// and the BEAM's would log a warning for each message. Decode drops what
// a BEAM's global sends to global_name_server for the same reason (see
// system.go). cluster/global ignores the error: the BEAM node takes no
// part in gonode's global names.
var errGlobal = fmt.Errorf("%w: gonode's global name server does not speak to a BEAM node's", dist.ErrUnencodable)

// proc is the monitored side of a monitor control message: the name if
// the monitor is on a registered name, else the pid.
func (c *Codec) proc(p proc.Pid, name string) any {
	if name != "" {
		return etf.Atom(name)
	}
	return pidToWire(p)
}

// Decode decodes one packet; see DecodeReply.
func (c *Codec) Decode(frame []byte) (dist.Message, error) {
	m, _, err := c.DecodeReply(frame)
	return m, err
}

// DecodeReply decodes one packet. A packet that is not 'p' (or a
// distribution header, see fragments.go) followed by a control tuple of the layout its operation has (and the message, if it
// carries one, and nothing after) is malformed: dist closes the
// connection. An operation gonode does not handle gives an error
// wrapping dist.ErrIgnored, which dist logs before reading on; the
// answers the protocol requires come back as reply (UNLINK_ID_ACK, a
// SPAWN_REPLY to a SPAWN_REQUEST), which dist writes before it hands the
// message to the node.
func (c *Codec) DecodeReply(frame []byte) (dist.Message, []byte, error) {
	body, tagged, err := c.unframe(frame)
	if err != nil {
		return dist.Message{}, nil, err // malformed, or a fragment of a message not yet whole
	}
	t, rest, err := decodeTerm(body, tagged)
	if err != nil {
		return dist.Message{}, nil, termError("control message", err)
	}
	ctl, ok := t.(etf.Tuple)
	if !ok || len(ctl) == 0 {
		return dist.Message{}, nil, malformed("control message %T, want a tuple", t)
	}
	op, ok := ctl[0].(int64)
	if !ok {
		return dist.Message{}, nil, malformed("control operation %v, want an integer", ctl[0])
	}
	l, known := layout[op]
	if !known {
		return dist.Message{}, nil, ignoredf("control message %d is not supported", op)
	}
	if len(ctl) != l.size {
		return dist.Message{}, nil, malformed("control message %d has %d elements, want %d", op, len(ctl), l.size)
	}
	var payload any
	if l.payload {
		if len(rest) == 0 {
			return dist.Message{}, nil, malformed("control message %d without its message", op)
		}
		if payload, rest, err = decodeTerm(rest, tagged); err != nil {
			return dist.Message{}, nil, termError(fmt.Sprintf("message of control message %d", op), err)
		}
	}
	if len(rest) != 0 {
		return dist.Message{}, nil, malformed("%d bytes after control message %d", len(rest), op)
	}
	d := decoding{c: c, ctl: ctl}
	m, reply := d.message(op, payload)
	if d.err != nil {
		return dist.Message{}, nil, d.err
	}
	return m, reply, d.ignored
}

func first(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// ignoredf says why a packet is dropped; dist logs it and reads on.
func ignoredf(format string, args ...any) error {
	return fmt.Errorf("%s; dropped (%w)", fmt.Sprintf(format, args...), dist.ErrIgnored)
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", dist.ErrMalformed, fmt.Sprintf(format, args...))
}

// termError sorts etf's errors: a term etf cannot take apart (ErrMalformed,
// ErrLimit) closes the connection; a well-formed term gonode does not
// support (LOCAL_EXT, an atom cache reference) drops the packet only.
func termError(what string, err error) error {
	if errors.Is(err, etf.ErrUnsupported) || errors.Is(err, etf.ErrAtomCacheRef) {
		return ignoredf("%s: %v", what, err)
	}
	return fmt.Errorf("%w: %s: %v", dist.ErrMalformed, what, err)
}
