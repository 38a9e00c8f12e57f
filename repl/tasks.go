package repl

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/gonode/gonode/otp"
)

// The shell's Task.async_stream and Task.yield. Items run by name
// (a function declared in the shell, or a standard library one) on this
// node or spread over others, each as an rpc from a task process of the
// caller, so that a crash gives an error value instead of ending the
// caller (Task.Supervisor.async_stream_nolink).

// StreamOpt is an option of asyncStream: maxConcurrency(n) or "unordered".
type StreamOpt struct{ apply func(*otp.StreamOptions) }

// MaxConcurrency bounds the items running at once.
func MaxConcurrency(n int) StreamOpt {
	return StreamOpt{func(o *otp.StreamOptions) { o.MaxConcurrency = n }}
}

// AsyncStream calls fn on each item, at most maxConcurrency at a time, on
// this node, round-robin over the nodes of on(...), or where a placement
// chooses as each item starts, and returns the
// results in the order of the items (as they finish with "unordered"):
// each a value, or an error for an item that failed, panicked or passed
// its timeout (5 s, or a time.Duration option).
func (x *Proc) AsyncStream(items any, fn string, opts ...any) []any {
	list := toList("asyncStream", items)
	o := otp.StreamOptions{Fn: fn, Caller: streamCaller{x.rt}, Nodes: []string{x.rt.node.Name()}}
	for _, opt := range opts {
		switch opt := opt.(type) {
		case ChildOpt:
			if len(opt.nodes) == 0 {
				fail("asyncStream: on() names no node")
			}
			if _, placed := o.Caller.(placedCaller); placed {
				fail("asyncStream: on(nodes...) and a placement: give one of them")
			}
			o.Nodes = opt.nodes
		case Placement:
			if len(o.Nodes) != 1 || o.Nodes[0] != x.rt.node.Name() {
				fail("asyncStream: on(nodes...) and a placement: give one of them")
			}
			// Each item's node is chosen as the item starts (placedCaller);
			// the one entry of Nodes only names the placement.
			o.Caller, o.Nodes = placedCaller{x.needCluster(), streamCaller{x.rt}, opt}, []string{opt.String()}
		case StreamOpt:
			opt.apply(&o)
		case time.Duration:
			o.Timeout = opt
		case string:
			if opt != "unordered" {
				fail("asyncStream: unknown option %q: want \"unordered\"", opt)
			}
			o.Unordered = true
		default:
			fail("asyncStream: unknown option of type %T: want on(nodes...), a placement, maxConcurrency(n), a timeout or \"unordered\"", opt)
		}
	}
	if x.rt.dist == nil && (len(o.Nodes) != 1 || o.Nodes[0] != x.rt.node.Name()) {
		fail("%w", errNoNode)
	}
	res := otp.TaskStream(x.proc(), list, nil, o)
	out := make([]any, len(res))
	for i, r := range res {
		out[i] = valueOrError(r.Value, r.Err)
	}
	return out
}

// valueOrError is one result as the shell shows it in a list: the value,
// or the error in its place.
func valueOrError(v any, err error) any {
	if err != nil {
		return err
	}
	return v
}

// toList turns a slice or array of any element type into a []any.
func toList(what string, items any) []any {
	v := reflect.ValueOf(items)
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		fail("%s: the items must be a slice, got %T", what, items)
	}
	out := make([]any, v.Len())
	for i := range out {
		out[i] = v.Index(i).Interface()
	}
	return out
}

// streamCaller runs an item's call: by rpc when the node is distributed,
// else through the session's functions directly.
type streamCaller struct{ rt *Runtime }

func (c streamCaller) RPC(ctx context.Context, node, fn string, args ...any) (any, error) {
	if c.rt.dist != nil {
		return c.rt.dist.RPC(c.rt.withOutput(ctx), node, fn, args...)
	}
	call, ok := sessionFuncs{c.rt}.Resolve(fn)
	if !ok {
		return nil, fmt.Errorf("no function %s in this shell", fn)
	}
	return call(ctx, args)
}

// placedCaller runs each item of an asyncStream on the node a placement
// chooses when the item starts, so that leastLoaded sees the tasks placed
// before it; no node fitting is that item's error.
type placedCaller struct {
	c    *clusterServices
	next streamCaller
	st   Placement
}

func (pc placedCaller) RPC(ctx context.Context, _, fn string, args ...any) (any, error) {
	node, _, err := pc.c.placement.Choose(pc.st)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", pc.st, err)
	}
	return pc.next.RPC(ctx, node, fn, args...)
}

// Yield waits up to timeout (default 5 s) for a task's result and returns
// it, or nil if the task has not finished: unlike await, the task goes on
// and can be yielded or awaited again (Task.yield).
func (x *Proc) Yield(t *Task, timeout ...time.Duration) any {
	if t == nil {
		fail("yield: nil task")
	}
	d := 5 * time.Second
	if len(timeout) > 0 {
		d = timeout[0]
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.done:
		t.awaited.Store(true)
		if t.err != nil {
			return t.err
		}
		return t.value
	case <-timer.C:
		return nil
	case <-x.ctx().Done():
		fail("yield: %w", x.ctx().Err())
	}
	return nil
}
