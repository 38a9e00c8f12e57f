package repl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
)

// Spawn starts a process from a shipped function: spawn(fn) here,
// spawn(node, fn) on another node.
func (x *Proc) Spawn(link bool, args ...any) proc.Pid {
	what := "spawn"
	if link {
		what = "spawnLink"
	}
	pid, _ := x.spawn(what, link, false, args)
	return pid
}

// SpawnMonitor is Spawn with a monitor from the caller.
func (x *Proc) SpawnMonitor(args ...any) (proc.Pid, proc.Ref) {
	return x.spawn("spawnMonitor", false, true, args)
}

func (x *Proc) spawn(what string, link, monitor bool, args []any) (proc.Pid, proc.Ref) {
	var node string
	switch len(args) {
	case 1:
	case 2:
		switch where := args[0].(type) {
		case string:
			node = where
		case Placement:
			n, err := x.place(where)
			x.check(err, what)
			node = n
		default:
			fail("%s(node, func() {...}): the node must be a string or a placement (leastLoaded(), hash(key), ...), got %T", what, args[0])
		}
	default:
		fail("%s takes a function, or a node or placement and a function", what)
	}
	b, ok := args[len(args)-1].(eval.Bundle)
	if !ok {
		fail("%s: the last argument must be a func literal or a function declared in this shell", what)
	}
	if node == "" || node == x.rt.node.Name() {
		pid, ref, err := x.rt.spawnLocal(x, b, link, monitor)
		x.check(err, what)
		return pid, ref
	}
	d := x.needDist()
	src, err := x.rt.session.Source(b)
	x.check(err, what)
	pid, ref, err := d.SpawnRemote(x.ctx(), x.proc(), node, "", nil, dist.SpawnOptions{
		Link: link, Monitor: monitor, Source: src, GroupLeader: x.rt.groupLeader,
	})
	if errors.Is(err, dist.ErrNodeDown) && !errors.Is(err, dist.ErrBadNodeName) {
		return x.unreachable(what, node, link, monitor, err)
	}
	if err != nil && strings.HasPrefix(err.Error(), "spawn on "+node+":") {
		fail("%w", err) // dist named the call already
	}
	x.check(err, what+" on "+node)
	return pid, ref
}

// unreachable is spawn on a node that cannot be reached, as Erlang does
// it: a warning, and a pid (of this node) that exits at once with
// :noconnection, so that a link or monitor asked for fires with that
// reason. The exit is delivered before this returns.
func (x *Proc) unreachable(what, node string, link, monitor bool, err error) (proc.Pid, proc.Ref) {
	pid, ref, serr := x.proc().SpawnHandler(func(*proc.Process, any) {}, proc.SpawnOptions{
		Link: link, Monitor: monitor, Label: what + " on " + node + ": no connection",
	})
	x.check(serr, what)
	fmt.Fprintf(x.rt.errw, "[warning] %s on %s: cannot start the process: %s; %v exits with :noconnection\n",
		what, node, connectReason(node, err), pid)
	_ = x.rt.node.Exit(pid, proc.NoConnection)
	return pid, ref
}

// Link links the caller to pid.
func (x *Proc) Link(pid proc.Pid) bool {
	x.check(x.proc().Link(x.rt.node.Resolve(pid)), "link")
	return true
}

// Unlink removes a link.
func (x *Proc) Unlink(pid proc.Pid) bool {
	x.check(x.proc().Unlink(x.rt.node.Resolve(pid)), "unlink")
	return true
}

// Monitor monitors a pid, a local registered name, or at(name, node).
func (x *Proc) Monitor(to any) proc.Ref {
	switch t := to.(type) {
	case proc.Pid:
		return x.proc().Monitor(x.rt.node.Resolve(t))
	case string:
		return x.proc().MonitorName(proc.Name{Name: t})
	case proc.Name:
		return x.proc().MonitorName(t)
	case Global:
		return x.monitorGlobal(t)
	}
	fail("monitor: want a pid, a registered name, at(name, node) or global(name), got %T", to)
	return proc.Ref{}
}

// Demonitor drops a monitor, and its DOWN message if it already came.
func (x *Proc) Demonitor(ref proc.Ref) bool { return x.proc().Demonitor(ref, true) }

// TrapExit turns exit signals into messages; it returns the old setting.
func (x *Proc) TrapExit(on bool) bool { return x.proc().TrapExit(on) }

// Exit ends the caller with a reason (exit(reason)), or sends an exit
// signal to another process (exit(pid, reason)). In the shell,
// exit(reason) ends the snippet and prints "** (exit) reason"; the shell's
// process lives on, as in iex.
func (x *Proc) Exit(args ...any) bool {
	switch len(args) {
	case 1:
		if x.p == nil {
			// Typed at the prompt: as in iex, an exception that ends the
			// snippet, not the shell's process (a script stops there).
			panic(shellExit{args[0]})
		}
		x.proc().Exit(args[0]) // does not return in a spawned process
		fail("exit: %s", proc.FormatReason(args[0]))
	case 2:
		pid, ok := args[0].(proc.Pid)
		if !ok {
			fail("exit(pid, reason): the first argument must be a pid, got %T", args[0])
		}
		x.check(x.proc().SendExit(x.rt.node.Resolve(pid), args[1]), "exit")
		return true
	}
	fail("exit takes a reason, or a pid and a reason")
	return false
}
