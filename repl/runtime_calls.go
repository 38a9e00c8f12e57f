package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
)

// What runs here on behalf of the shell and its peers: functions spawned
// from the shell, rpc calls by name, literals a peer spawns. Each runs in
// an interpreter of its own, as a process of its own.

// bindWorker points a worker interpreter's __self at its process.
func (rt *Runtime) bindWorker(ctx context.Context, in *eval.Interp, x *Proc) error {
	if in == nil {
		return nil // a host function: it has no interpreter
	}
	return in.Assign("__self", x) // a pooled worker serves one process after another
}

// spawnLocal starts a process running a shipped function in an
// interpreter of its own.
func (rt *Runtime) spawnLocal(parent *Proc, b eval.Bundle, link, monitor bool) (proc.Pid, proc.Ref, error) {
	return parent.proc().SpawnOpt(func(p *proc.Process) {
		rt.runShipped(p, func(ctx context.Context) (*eval.Func, error) { return rt.session.Load(ctx, b, rt.async) }, nil, proc.Pid{})
	}, proc.SpawnOptions{Link: link, Monitor: monitor, Label: "spawned from the shell"})
}

// runShipped loads a function into a fresh interpreter and runs it as the
// process p. A panic ends the process with a PanicReason; an error result
// ends it with the error's text. gl, if not zero, is the group leader of
// a peer's shell that spawned p: a crash report goes there before the
// exit, so that it arrives before the DOWN or EXIT it explains.
func (rt *Runtime) runShipped(p *proc.Process, load func(context.Context) (*eval.Func, error), args []any, gl proc.Pid) {
	ctx := p.Context()
	fn, err := load(ctx)
	if err == nil {
		defer fn.Release()
		err = rt.bindWorker(ctx, fn.Interp(), &Proc{rt: rt, p: p, ctx: p.Context})
	}
	if err == nil {
		var res []any
		res, err = fn.Call(ctx, args...)
		if err == nil {
			_, err = collapse(fn, res)
		}
	}
	if err != nil {
		reason := exitReason(err)
		if _, crashed := reason.(proc.PanicReason); crashed && !gl.IsZero() && !p.Supervised() {
			name := ""
			if in, ok := rt.node.Info(p.Pid()); ok {
				name = in.Name
			}
			text := crashText(proc.CrashReport{Pid: p.Pid(), Name: name, Reason: reason})
			_, _ = io.WriteString(&groupLeaderWriter{node: rt.node, gl: gl, tag: reportTag}, text)
		}
		p.Exit(reason)
	}
}

// exitReason turns what a shipped function failed with into an exit
// reason that crosses nodes intact.
func exitReason(err error) any {
	var pe *eval.PanicError
	if errors.As(err, &pe) {
		var se shellError
		if e, ok := pe.Value.(error); ok && errors.As(e, &se) {
			// A failing helper ends the process with the atom Erlang's
			// would, so that a monitor or a trapped link can match it:
			// link to a dead pid gives :noproc, send to a name not
			// registered gives :badarg. Erlang's reason is {Atom,
			// Stacktrace}; the atom alone is kept, having no Erlang
			// stack to give. Other helper failures keep their text.
			switch {
			case errors.Is(se, proc.ErrNotRegistered):
				return proc.Atom("badarg")
			case errors.Is(se, proc.ErrNoProc):
				return proc.NoProc
			}
			return se.Error()
		}
		v := pe.Value
		switch v.(type) {
		case string, proc.Atom, int, int64, float64:
		default:
			v = fmt.Sprint(v)
		}
		return proc.PanicReason{Value: v, Stack: string(pe.Stack)}
	}
	return err.Error()
}

// collapse turns a function's results into one value or error: a trailing
// non-nil error is the error; one other result is the value; several are
// a []any.
func collapse(fn *eval.Func, res []any) (any, error) {
	t := fn.Type()
	if t != nil && t.Kind() == reflect.Func && t.NumOut() > 0 && t.Out(t.NumOut()-1) == reflect.TypeFor[error]() && len(res) > 0 {
		if err, _ := res[len(res)-1].(error); err != nil {
			return nil, err
		}
		res = res[:len(res)-1]
	}
	switch len(res) {
	case 0:
		return nil, nil
	case 1:
		return res[0], nil
	}
	return res, nil
}

// helperCalls are the shell helpers a peer may call by their shell name
// as well (rpc(n, "nodeName"), as :rpc.call(n, Node, :self, [])): each is
// the node-level function of the same name. A function declared in the
// shell under that name wins.
var helperCalls = map[string]string{
	"nodeName": "node.NodeName", "list": "node.List", "ping": "node.Ping", "processes": "node.Processes",
}

// sessionFuncs lets peers call the functions declared in the shell, and
// standard library functions, by name (rpc, async, multicall). Each call
// runs in a fresh interpreter holding the latest definitions, as a process
// of its own (erpc runs calls in a new process too).
type sessionFuncs struct{ rt *Runtime }

func (f sessionFuncs) Resolve(name string) (dist.Callable, bool) {
	rt := f.rt
	if alias, ok := helperCalls[name]; ok && !rt.session.HasFunc(name) {
		name = alias
	}
	if !rt.session.HasFunc(name) {
		return nil, false
	}
	return func(ctx context.Context, args []any) (any, error) {
		return rt.runCall(ctx, "rpc "+name, func(ctx context.Context) (*eval.Func, error) {
			return rt.session.ResolveTo(ctx, name, rt.callOutput(ctx))
		}, args)
	}, true
}

// sessionSources runs function literals that a peer's shell spawns here.
type sessionSources struct{ rt *Runtime }

func (s sessionSources) Compile(source string) (dist.Callable, error) {
	rt := s.rt
	rt.preloadTypes(source) // typed.go
	return func(ctx context.Context, args []any) (any, error) {
		p, gl, ok := dist.ProcessFrom(ctx)
		if !ok {
			return rt.callLiteral(ctx, source, args) // async(node, func() T {...}) (async_literal.go)
		}
		var w io.Writer = rt.async
		if !gl.IsZero() {
			w = &groupLeaderWriter{node: rt.node, gl: gl}
		}
		rt.runShipped(p, func(ctx context.Context) (*eval.Func, error) { return rt.session.Compile(ctx, source, w) }, args, gl)
		return nil, nil
	}, nil
}
