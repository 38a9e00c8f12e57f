package repl

import (
	"fmt"
	"time"

	"github.com/gonode/gonode/proc"
)

// RPC calls fn on node and returns its result, or the error as a value.
func (x *Proc) RPC(node, fn string, args ...any) any {
	ctx, args, cancel := withTimeout(x.ctx(), args) // timeout(d), last
	defer cancel()
	v, err := x.needDist().RPC(x.rt.withOutput(ctx), node, fn, args...)
	if err != nil {
		return err
	}
	return v
}

// Cast runs fn on node without waiting.
func (x *Proc) Cast(node, fn string, args ...any) bool {
	x.check(x.needDist().Cast(x.rt.withOutput(x.ctx()), node, fn, args...), "cast")
	return true
}

// Async starts an rpc on a node, or on the node a placement chooses, and
// returns at once; Await gets its result (an error value when no node
// fits the placement).
func (x *Proc) Async(where any, what any, args ...any) *Task {
	fn, lit, literal := asyncWhat(what) // a name, or a func literal (async_literal.go)
	if literal {
		fn = "func literal"
	}
	d := x.needDist()
	var node string
	switch w := where.(type) {
	case string:
		node = w
	case Placement:
		n, err := x.place(w)
		if err != nil {
			t := &Task{Node: w.String(), Fn: fn, done: make(chan struct{}), err: fmt.Errorf("async: %w", err), cancel: func() {}}
			close(t.done)
			return t
		}
		node = n
	default:
		fail("async: the node must be a string or a placement (leastLoaded(), hash(key), ...), got %T", where)
	}
	if literal {
		return x.asyncLiteral(d, node, lit, args)
	}
	return x.rt.startTask(d, x.owner(), node, fn, args)
}

// Await waits for a Task's result, 5 s by default as Elixir's Task.await;
// after the timeout it returns an error and cancels the task.
func (x *Proc) Await(t *Task, timeout ...time.Duration) any {
	if t == nil {
		fail("await: nil task")
	}
	if t.awaited.Swap(true) {
		fail("await: %v was already awaited", t)
	}
	d := 5 * time.Second
	if len(timeout) > 0 {
		d = timeout[0]
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.done:
		if t.err != nil {
			return t.err
		}
		return t.value
	case <-timer.C:
		t.cancel()
		return fmt.Errorf("await %v: %w after %v", t, proc.ErrTimeout, d)
	case <-x.ctx().Done():
		t.cancel()
		fail("await: %w", x.ctx().Err())
	}
	return nil
}

// Multicall calls fn on every node at once; each result is a value or an
// error.
func (x *Proc) Multicall(nodes []string, fn string, args ...any) []any {
	ctx, args, cancel := withTimeout(x.ctx(), args) // timeout(d), last
	defer cancel()
	rs := x.needDist().Multicall(x.rt.withOutput(ctx), nodes, fn, args...)
	out := make([]any, len(rs))
	for i, r := range rs {
		out[i] = valueOrError(r.Value, r.Err)
	}
	return out
}
