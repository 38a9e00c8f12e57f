package repl

import (
	"context"
	"fmt"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/format"
)

// Proc is the process an interpreter acts as: the shell's own process, or
// a spawned one. The prelude's helpers call its methods. A failing helper
// panics with a shellError, which ends the snippet (or the process) with
// a clear message. Used by the one goroutine that runs its interpreter.
type Proc struct {
	rt  *Runtime
	p   *proc.Process          // the process; nil for the shell, whose process can be replaced
	ctx func() context.Context // cancelled when the caller should stop waiting: Ctrl-C, or the process's death
}

// proc returns the process the caller acts as.
func (x *Proc) proc() *proc.Process {
	if x.p != nil {
		return x.p
	}
	return x.rt.shellProcess()
}

func (x *Proc) check(err error, what string) {
	if err != nil {
		fail("%s: %w", what, err)
	}
}

func (x *Proc) needDist() *dist.Node {
	if x.rt.dist == nil {
		fail("%w", errNoNode)
	}
	return x.rt.dist
}

// Self returns the process's pid.
func (x *Proc) Self() proc.Pid { return x.proc().Pid() }

// NodeName returns this node's name.
func (x *Proc) NodeName() string { return x.rt.node.Name() }

// ParsePid parses a printed pid.
func (x *Proc) ParsePid(s string) proc.Pid {
	pid, err := proc.ParsePid(s)
	x.check(err, "pid")
	return x.rt.node.Resolve(pid)
}

// Processes returns the process table of this node, or of the node named.
func (x *Proc) Processes(node ...string) Table {
	x.proc() // the shell's own process is part of the table, as in iex
	if len(node) == 0 || node[0] == x.rt.node.Name() {
		return Table(x.rt.node.Processes())
	}
	if len(node) > 1 {
		fail("processes takes no argument, or a node name")
	}
	v, err := x.needDist().RPC(x.ctx(), node[0], "node.Processes")
	x.check(err, "processes")
	t, err := tableFromWire(v)
	x.check(err, "processes on "+node[0])
	return t
}

// Info describes one process, on this node or another, or returns nil if
// it is not alive.
func (x *Proc) Info(pid proc.Pid) any {
	pid = x.rt.node.Resolve(pid)
	if !x.rt.node.IsLocal(pid) {
		v, err := x.needDist().RPC(x.ctx(), pid.Node, "node.ProcessInfo", pid)
		x.check(err, "i")
		if v == nil {
			return nil
		}
		in, ok := infoFromWire(v)
		if !ok {
			fail("i: %s answered with %s", pid.Node, format.Value(v))
		}
		return Info(in)
	}
	in, ok := x.rt.node.Info(pid)
	if !ok {
		return nil
	}
	return Info(in)
}

// History returns an earlier result: v() the last, v(n) result n, v(-k)
// the k-th from the end.
func (x *Proc) History(n ...int) any {
	v, err := x.rt.result(n...)
	x.check(err, "v")
	return v
}

// Help prints the helpers, or with a name (help(spawn), help("rpc")) one
// helper's signature, what it does and an example. An unknown name fails.
func (x *Proc) Help(name ...any) {
	if len(name) == 0 {
		fmt.Fprintln(x.rt.out, helpText)
		return
	}
	s, ok := name[0].(string)
	if len(name) > 1 || !ok {
		fail("help takes a helper's name: help(spawn) or help(\"spawn\"), got %v", name)
	}
	text, err := helpFor(s)
	if err != nil {
		fail("%v", err)
	}
	fmt.Fprintln(x.rt.out, text)
}

// Quit stops the node and leaves the shell.
func (x *Proc) Quit() { x.rt.halt() }
