package erlang

import (
	"fmt"
	"sync"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// Spawning on a BEAM node from gonode: dist's KindSpawnRequest
// (Node.SpawnRemote, SpawnChild, with Fn "module:function") goes out as
// spawn_request/5 sends it,
//
//	SPAWN_REQUEST {29, ReqId, Parent, GL, {M, F, Arity}, Opts} + Args
//
// with dist's Ref as ReqId, Opts [link] and/or [monitor] as asked (the
// BEAM sets them up from its side before the process runs; a monitor's
// ref is ReqId, as spawn_request's is, which is the Ref SpawnRemote
// returns), and GL the caller's group leader as for rpc (io.go). The
// BEAM's SPAWN_REPLY {31, ReqId, Parent, Flags, Result} becomes the
// KindSpawnReply dist waits for: Result the new pid, or an error atom
// (badarg, notsup, system_limit) as a *dist.RemoteError. As in Erlang,
// a function that does not exist still starts a process, which exits
// undef (its link or monitor sees it). A function literal (Source) is
// gonode code: it cannot be sent (dist.ErrUnencodable).

// maxSpawns bounds the spawn requests awaiting their reply per
// connection; past it the table is cleared (the replies to those are
// then dropped, and their callers time out).
const maxSpawns = 1 << 12

type spawnTable struct {
	mu      sync.Mutex          // guards pending
	pending map[proc.Ref]string // by ReqId: the MFA, for errors
}

// encodeSpawn encodes a KindSpawnRequest as spawn_request's.
func (c *Codec) encodeSpawn(dst []byte, m *dist.Message) ([]byte, error) {
	mod, fun, err := splitMFA(m)
	if err != nil {
		return dst, err
	}
	opts := []any{}
	if m.Link {
		opts = append(opts, atomLink)
	}
	if m.Monitor {
		opts = append(opts, atomMon)
	}
	reqID := c.refs.toWire(m.Ref)
	ctl := etf.Tuple{int64(opSpawnReq), reqID, c.from(m.From), c.groupLeader(m), etf.Tuple{mod, fun, int64(len(m.Args))}, opts}
	out, err := c.appendPacket(dst, ctl, c.argsToTerm(m.Args), true)
	if err != nil {
		return dst, fmt.Errorf("%w: %v", dist.ErrUnencodable, err)
	}
	c.spawns.mu.Lock()
	if c.spawns.pending == nil || len(c.spawns.pending) >= maxSpawns {
		c.spawns.pending = make(map[proc.Ref]string)
	}
	c.spawns.pending[m.Ref] = fmt.Sprintf("%s:%s/%d", quoteAtom(string(mod)), quoteAtom(string(fun)), len(m.Args))
	c.spawns.mu.Unlock()
	return out, nil
}

// spawned answers a spawn request of this node's with the SPAWN_REPLY
// being decoded, if ref is one.
func (d *decoding) spawned(ref proc.Ref) (dist.Message, bool) {
	c := d.c
	c.spawns.mu.Lock()
	mfa, ok := c.spawns.pending[ref]
	delete(c.spawns.pending, ref)
	c.spawns.mu.Unlock()
	if !ok {
		return dist.Message{}, false
	}
	to := d.pid(2)
	switch r := d.ctl[4].(type) {
	case etf.Pid:
		return dist.Message{Kind: dist.KindSpawnReply, From: pidFromWire(r), To: to, Ref: ref}, true
	case etf.Atom:
		kind := dist.RemoteGoError
		switch r {
		case "badarg":
			kind = dist.RemoteBadarg
		case "noconnection":
			kind = dist.RemoteNodeDown
		}
		return dist.Message{Kind: dist.KindSpawnReply, To: to, Ref: ref,
			Err: &dist.RemoteError{Kind: kind, Message: fmt.Sprintf("spawn %s on %s: %s", mfa, c.peer, quoteAtom(string(r)))}}, true
	}
	d.fail(4, "a pid or an atom")
	return dist.Message{}, true
}
