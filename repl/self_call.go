package repl

import (
	"time"

	"github.com/gonode/gonode/proc"
)

// defaultCallTimeout is GenServer.call's default.
const defaultCallTimeout = 5 * time.Second

// Call is GenServer.call (gen:call): it sends request to a server (a
// pid, a registered name, at(name, node) or global(name)) and waits for
// its reply, at most the timeout (5 s if none is given). The server may
// be a gonode process that answers with reply, an otp server, or a
// gen_server on a BEAM node. A server that is missing, dies or does not
// answer in time fails the snippet, as the call exits the caller in
// Erlang.
func (x *Proc) Call(to any, request any, timeout ...time.Duration) any {
	d := defaultCallTimeout
	if len(timeout) > 0 {
		d = timeout[0]
	}
	p := x.proc()
	var v any
	var err error
	switch t := to.(type) {
	case proc.Pid:
		v, err = p.Call(x.rt.node.Resolve(t), request, d)
	case string:
		v, err = p.CallName(proc.Name{Name: t}, request, d)
	case proc.Name:
		v, err = p.CallName(t, request, d)
	case Global:
		pid, ok := x.needCluster().global.Whereis(t.Name)
		if !ok {
			fail("call: no process holds the global name %q (noproc)", t.Name)
		}
		v, err = p.Call(pid, request, d)
	default:
		fail("call: the server must be a pid, a registered name, at(name, node) or global(name), got %T", to)
	}
	x.check(err, "call")
	return v
}

// Reply answers a call that a process took from its mailbox as a
// node.CallRequest (gen_server's reply, GenServer.reply).
func (x *Proc) Reply(req proc.CallRequest, v any) bool {
	x.check(x.proc().Reply(req, v), "reply")
	return true
}
