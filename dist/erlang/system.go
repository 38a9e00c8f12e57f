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
//   - net_kernel answers the gen_call {is_auth, Node} with
//     yes, as the BEAM's does once the handshake has proved the cookie:
//     net_adm:ping(gonode) is then pong. Other requests get no answer (a
//     gen_call of the BEAM then times out, as with a busy net_kernel).
//   - rex, the rpc server of the old rpc protocol, answers a gen_call
//     with {badrpc, notsup}: OTP 25's rpc:call uses erpc (rpc_in.go), and
//     only rpc:block_call and callers from before OTP 23 still ask rex.
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

// The codec delivers a BEAM's gen_call as a proc.CallRequest (see
// callRequest), answered with Process.Reply as any call.

func netKernel(p *proc.Process, msg any, logf func(string, ...any)) {
	req, ok := msg.(proc.CallRequest)
	if !ok {
		return
	}
	if t, ok := req.Request.(etf.Tuple); ok && len(t) == 2 && t[0] == proc.Atom("is_auth") {
		_ = p.Reply(req, proc.Atom("yes"))
		return
	}
	logf("erlang: net_kernel: request %v from %v not supported; left unanswered", req.Request, req.From)
}

func rex(p *proc.Process, msg any) {
	if req, ok := msg.(proc.CallRequest); ok {
		_ = p.Reply(req, etf.Tuple{proc.Atom("badrpc"), proc.Atom("notsup")})
	}
}
