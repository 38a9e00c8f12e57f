package erlang

import (
	"fmt"
	"math/big"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// decoding turns one control tuple, whose size Decode checked, into a
// dist.Message. The first element of a wrong type sets err (malformed:
// the connection closes); ignored is set for a well-formed operation that
// gonode does not carry out.
type decoding struct {
	c       *Codec
	ctl     etf.Tuple
	err     error
	ignored error
}

func (d *decoding) fail(i int, want string) {
	if d.err == nil {
		d.err = malformed("control message %v: element %d is %T, want %s", d.ctl[0], i+1, d.ctl[i], want)
	}
}

func (d *decoding) pid(i int) proc.Pid {
	p, ok := d.ctl[i].(etf.Pid)
	if !ok {
		d.fail(i, "a pid")
	}
	return pidFromWire(p)
}

func (d *decoding) ref(i int) proc.Ref {
	r, ok := d.ctl[i].(etf.Ref)
	if !ok {
		d.fail(i, "a reference")
	}
	return d.c.refs.fromWire(r)
}

func (d *decoding) atom(i int) string {
	a, ok := d.ctl[i].(etf.Atom)
	if !ok {
		d.fail(i, "an atom")
	}
	return string(a)
}

// proc reads a pid or a registered name (MONITOR_P's ToProc,
// MONITOR_P_EXIT's FromProc). A name's node is the one it lives on.
func (d *decoding) proc(i int, node string) (proc.Pid, string) {
	switch x := d.ctl[i].(type) {
	case etf.Pid:
		return pidFromWire(x), ""
	case etf.Atom:
		return proc.Pid{Node: node}, string(x)
	}
	d.fail(i, "a pid or an atom")
	return proc.Pid{}, ""
}

func (d *decoding) term(v any) any { return d.c.fromTerm(v, 0) }

// msg converts a message (not a reason): gen_calls become CallRequests.
func (d *decoding) msg(v any) any { return d.c.payload(v) }

func (d *decoding) message(op int64, payload any) (dist.Message, []byte) {
	c := d.c
	switch op {
	case opSend, opSendTT:
		if m, reply, ok := d.ioRequest(d.pid(2), payload); ok {
			return m, reply // to the group leader of a call of this node's (io.go)
		}
		return dist.Message{Kind: dist.KindSend, To: d.pid(2), Payload: d.msg(payload)}, nil
	case opSendSender, opSendSendTT:
		if m, reply, ok := d.ioRequest(d.pid(2), payload); ok {
			return m, reply
		}
		return dist.Message{Kind: dist.KindSend, From: d.pid(1), To: d.pid(2), Payload: d.msg(payload)}, nil
	case opRegSend, opRegSendTT:
		if d.atom(3) == GlobalNameServer && d.err == nil {
			d.ignored = dist.ErrIgnored // global's protocol, which gonode's does not speak: see errGlobal
			return dist.Message{}, nil
		}
		return dist.Message{Kind: dist.KindRegSend, From: d.pid(1), To: proc.Pid{Node: c.self}, ToName: d.atom(3), Payload: d.msg(payload)}, nil
	case opLink:
		return dist.Message{Kind: dist.KindLink, From: d.pid(1), To: d.pid(2)}, nil
	case opUnlink:
		return dist.Message{Kind: dist.KindUnlink, From: d.pid(1), To: d.pid(2)}, nil
	case opUnlinkID:
		// The unlinked side answers with the same Id, itself as From.
		// The Id is a 64-bit unsigned integer: int64, or *big.Int beyond.
		switch d.ctl[1].(type) {
		case int64, *big.Int:
		default:
			d.fail(1, "an integer")
		}
		from, to := d.pid(2), d.pid(3)
		var ack []byte
		if d.err == nil {
			ack = c.packet(etf.Tuple{int64(opUnlinkAck), d.ctl[1], pidToWire(to), pidToWire(from)}, nil, false)
		}
		return dist.Message{Kind: dist.KindUnlink, From: from, To: to}, ack
	case opUnlinkAck:
		d.ignored = dist.ErrIgnored // the answer to our UNLINK_ID: nothing to do
		return dist.Message{}, nil
	case opExit, opExit2:
		return d.exit(op == opExit, d.ctl[3]), nil
	case opExitTT, opExit2TT:
		return d.exit(op == opExitTT, d.ctl[4]), nil
	case opPExit, opPExitTT, opPExit2, opPExit2TT:
		return d.exit(op == opPExit || op == opPExitTT, payload), nil
	case opMonitorP, opDemonitorP:
		kind := dist.KindMonitor
		if op == opDemonitorP {
			kind = dist.KindDemonitor
		}
		to, name := d.proc(2, c.self)
		if name == "" && to == pidFromWire(c.selfPid()) {
			// Process 0, the group leader of calls without one: io
			// monitors its group leader, which answers as long as the
			// connection lives (io.go), so no DOWN noproc.
			d.ignored = dist.ErrIgnored
			return dist.Message{}, nil
		}
		if kind == dist.KindDemonitor && name == "" && d.err == nil {
			if cancel, ok := c.cancelIncoming(to); ok {
				return cancel, nil // erpc's time-out on a call running here
			}
		}
		return dist.Message{Kind: kind, From: d.pid(1), To: to, ToName: name, Ref: d.ref(3)}, nil
	case opMonitorEx, opPMonitorEx:
		reason := payload
		if op == opMonitorEx {
			reason = d.ctl[4]
		}
		from, name := d.proc(1, c.peer)
		ref := d.ref(3)
		if o := c.takeOutgoing(ref); o != nil && d.err == nil {
			return c.result(o, ref, reason), nil // the answer to this node's erpc call
		}
		c.calls.take(ref) // a gen_call's callee gone: no reply will come
		if e, ok := c.takeEval(ref); ok && d.err == nil {
			return d.evalDone(e, reason) // the M:F(A) of a put_chars (io.go)
		}
		return dist.Message{Kind: dist.KindDown, From: from, ToName: name, To: d.pid(2), Ref: ref, Payload: d.term(reason)}, nil
	case opSpawnReq, opSpawnReqTT:
		return d.spawnRequest(op, payload)
	case opSpawnReply, opSpawnRepTT:
		return d.spawnReply()
	case opAliasSend, opAliasSndTT:
		// proc has no aliases: nothing here can be reached through one.
		d.ignored = ignoredf("ALIAS_SEND to %v: gonode processes have no aliases", d.ctl[2])
		return dist.Message{}, nil
	}
	d.ignored = ignoredf("control message %d is not supported", op)
	return dist.Message{}, nil
}

func (d *decoding) exit(linked bool, reason any) dist.Message {
	kind := dist.KindExit2
	if linked {
		kind = dist.KindExit
	} else if cancel, ok := d.c.cancelIncoming(d.pid(2)); ok && d.err == nil {
		return cancel // exit(Pid, kill) of the stand-in of a call running here
	}
	return dist.Message{Kind: kind, From: d.pid(1), To: d.pid(2), Payload: d.term(reason)}
}

// refuseSpawn answers a SPAWN_REQUEST that is no erpc call or cast with
// SPAWN_REPLY {31, ReqId, From, 0, notsup}: gonode cannot run BEAM code
// (spawn/4 of a module of the BEAM's, Node.spawn of a fun).
func (d *decoding) refuseSpawn() []byte {
	from := d.pid(2)
	mfa, _ := d.ctl[4].(etf.Tuple)
	if _, ok := d.ctl[1].(etf.Ref); !ok {
		d.fail(1, "a reference")
	}
	if d.err != nil {
		return nil
	}
	d.ignored = ignoredf("spawn request for %s from %v answered %s: spawning BEAM functions is not supported", mfaString(mfa), from, spawnReplyError)
	return d.c.packet(etf.Tuple{int64(opSpawnReply), d.ctl[1], pidToWire(from), int64(0), etf.Atom(spawnReplyError)}, nil, false)
}

// mfaString prints a spawn request's {Module, Function, Arity} as M:F/A.
func mfaString(t etf.Tuple) string {
	if len(t) != 3 {
		return fmt.Sprint(t)
	}
	return fmt.Sprintf("%v:%v/%v", t[0], t[1], t[2])
}

// packet encodes a packet the codec sends by itself. Its terms are plain
// wire values and always encode.
func (c *Codec) packet(ctl etf.Tuple, msg any, hasMsg bool) []byte {
	out, err := c.appendPacket(nil, ctl, msg, hasMsg)
	if err != nil {
		return nil
	}
	return out
}
