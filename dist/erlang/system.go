package erlang

import (
	"errors"
	"fmt"

	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// The registered processes a BEAM node talks to on every node it knows.
// StartSystem starts them as handler processes of the node (they hold no
// goroutine while idle, and the node stops them with the rest):
//
//   - net_kernel answers {'$gen_call', {From, Tag}, {is_auth, Node}} with
//     yes, as the BEAM's does once the handshake has proved the cookie:
//     net_adm:ping(gonode) is then pong. Other requests get no answer (a
//     gen_call of the BEAM then times out, as with a busy net_kernel).
//   - rex, the rpc server of the old rpc protocol, answers a gen_call
//     with {badrpc, notsup}: rpc into gonode is not supported yet (OTP's
//     rpc:call uses erpc, whose SPAWN_REQUEST the codec answers notsup).
//   - global_name_server is there to be monitored: what a BEAM's global
//     sends it ({init_connect, ...} and the lock protocol) is dropped by
//     the codec before it gets there, and gonode's own cluster/global,
//     which holds the name in the shell, sends BEAM nodes nothing (see
//     errGlobal). Global names are not shared with BEAM nodes; the
//     connection stays up.
const (
	NetKernel        = "net_kernel"
	Rex              = "rex"
	GlobalNameServer = "global_name_server"
)

// StartSystem registers net_kernel, rex and global_name_server on n,
// leaving alone a name a process of the node already holds (gonode's own
// cluster/global runs as global_name_server, and logs and drops what the
// BEAM's global sends it). logf, if not nil, hears of requests left
// unanswered.
func StartSystem(n *proc.Node, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	handlers := []struct {
		name string
		h    proc.Handler
	}{
		{NetKernel, func(p *proc.Process, msg any) { netKernel(p, msg, logf) }},
		{Rex, func(p *proc.Process, msg any) { rex(p, msg) }},
		{GlobalNameServer, func(*proc.Process, any) {}},
	}
	var errs []error
	for _, h := range handlers {
		if _, taken := n.Whereis(h.name); taken {
			continue
		}
		if _, err := n.SpawnHandler(h.h, proc.SpawnOptions{Name: h.name, Label: "Erlang " + h.name}); err != nil {
			errs = append(errs, fmt.Errorf("erlang: starting %s: %w", h.name, err))
		}
	}
	return errors.Join(errs...)
}

// genCall takes apart {'$gen_call', {From, Tag}, Request}, as gen:call
// sends it (Tag is [alias | Ref] from OTP 24 on, a Ref before).
func genCall(msg any) (from proc.Pid, tag, req any, ok bool) {
	t, ok := msg.(etf.Tuple)
	if !ok || len(t) != 3 || t[0] != proc.Atom("$gen_call") {
		return proc.Pid{}, nil, nil, false
	}
	ft, ok := t[1].(etf.Tuple)
	if !ok || len(ft) != 2 {
		return proc.Pid{}, nil, nil, false
	}
	from, ok = ft[0].(proc.Pid)
	return from, ft[1], t[2], ok
}

// reply answers a gen_call as gen:reply does, {Tag, Reply} to the caller;
// gen:call receives it whether it comes to the caller's pid or alias.
func reply(p *proc.Process, from proc.Pid, tag, r any) {
	_ = p.Send(from, etf.Tuple{tag, r})
}

func netKernel(p *proc.Process, msg any, logf func(string, ...any)) {
	from, tag, req, ok := genCall(msg)
	if !ok {
		return
	}
	if t, ok := req.(etf.Tuple); ok && len(t) == 2 && t[0] == proc.Atom("is_auth") {
		reply(p, from, tag, proc.Atom("yes"))
		return
	}
	logf("erlang: net_kernel: request %v from %v not supported; left unanswered", req, from)
}

func rex(p *proc.Process, msg any) {
	if from, tag, _, ok := genCall(msg); ok {
		reply(p, from, tag, etf.Tuple{proc.Atom("badrpc"), proc.Atom("notsup")})
	}
}
