package repl

import (
	"context"
	"errors"
	"fmt"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
)

// Calls into this shell from peers (rpc, async, multicall, by name or with
// a function literal), and async(node, func() T {...}): Elixir's
// Task.async(fn -> ... end) on another node. The literal travels as the
// source text spawn ships (Session.Source), in a Call instead of a spawn
// request, so the peer's allow-list checks it as a literal
// (dist.LiteralPattern) and its result comes back as an rpc's does.

// runCall runs one call from a peer as a process of its own (erpc runs
// calls in a new process too), in the interpreter resolve gives: the
// function's results become the call's value or error.
func (rt *Runtime) runCall(ctx context.Context, label string, resolve func(context.Context) (*eval.Func, error), args []any) (any, error) {
	fn, err := resolve(ctx)
	if err != nil {
		return nil, err
	}
	defer fn.Release()
	// The process's context ends with the caller's or with the process
	// (exit(pid, :kill)), and cancels the call's interpreter either way.
	p, err := rt.node.AttachContext(ctx, proc.SpawnOptions{Label: label})
	if err != nil {
		return nil, err
	}
	defer p.Exit(proc.Normal)
	ctx = p.Context()
	if err := rt.bindWorker(ctx, fn.Interp(), &Proc{rt: rt, p: p, ctx: func() context.Context { return ctx }}); err != nil {
		if !p.Alive() { // killed before the call began
			return nil, &dist.RemoteError{Kind: dist.RemoteExit, Message: proc.FormatReason(p.Reason())}
		}
		return nil, err
	}
	res, err := fn.Call(ctx, args...)
	if err != nil {
		if !p.Alive() {
			// The call's process exited: exit(reason) (whose helper
			// fails once the attached process is dead), or an exit
			// signal. The caller gets the exit reason, not the
			// helper's failure.
			return nil, &dist.RemoteError{Kind: dist.RemoteExit, Message: proc.FormatReason(p.Reason())}
		}
		var pe *eval.PanicError
		if errors.As(err, &pe) {
			return nil, &dist.RemoteError{Kind: dist.RemotePanic, Message: fmt.Sprint(pe.Value)}
		}
		if errors.Is(err, eval.ErrBadArgument) {
			return nil, &dist.RemoteError{Kind: dist.RemoteBadarg, Message: err.Error()}
		}
		return nil, err
	}
	return collapse(fn, res)
}

// callLiteral runs a function literal a peer's async sent here.
func (rt *Runtime) callLiteral(ctx context.Context, source string, args []any) (any, error) {
	return rt.runCall(ctx, "async literal", func(ctx context.Context) (*eval.Func, error) {
		return rt.session.Compile(ctx, source, rt.callOutput(ctx))
	}, args)
}

// asyncLiteral starts a task running a shipped literal on node.
func (x *Proc) asyncLiteral(d *dist.Node, node string, b eval.Bundle, args []any) *Task {
	src, err := x.rt.session.Source(b)
	x.check(err, "async")
	return x.rt.startCall(x.owner(), node, "func literal", args, func(ctx context.Context, args []any) (any, error) {
		return d.RPCSource(ctx, node, src, args...)
	})
}

var errAsyncFn = errors.New(`async: the function must be a name ("Compute", "strings.ToUpper") or a func literal`)

// asyncWhat checks async's function argument: a name, or the Bundle the
// shell made of a literal.
func asyncWhat(fn any) (name string, b eval.Bundle, literal bool) {
	switch f := fn.(type) {
	case string:
		return f, eval.Bundle{}, false
	case eval.Bundle:
		return "", f, true
	}
	fail("%w, got %s", errAsyncFn, fmt.Sprintf("%T", fn))
	return "", eval.Bundle{}, false
}
