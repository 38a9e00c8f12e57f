package repl

import (
	"context"
	"time"
)

// Timeout is the option within(d), the last argument of rpc, async or
// multicall: the caller gives up after d, and the call is cancelled on the
// node that runs it (its interpreter stops, busy loops included), as
// :erpc.call(node, m, f, args, timeout) does. Without it a call waits for
// ever, or for await's timeout.
type Timeout time.Duration

// withTimeout takes a trailing Timeout off args and returns a context
// that ends with ctx or after it. cancel must be called.
func withTimeout(ctx context.Context, args []any) (context.Context, []any, context.CancelFunc) {
	if n := len(args); n > 0 {
		if d, ok := args[n-1].(Timeout); ok {
			if d <= 0 {
				fail("within(%v): the timeout must be positive", time.Duration(d))
			}
			ctx, cancel := context.WithTimeout(ctx, time.Duration(d))
			return ctx, args[:n-1], cancel
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	return ctx, args, cancel
}

// owner is the context of the process that starts an async task: a
// spawned process's, which ends when it dies, so that its tasks are
// cancelled with it, as an Elixir Task is linked to its caller. The
// shell's tasks live as long as the runtime (nil).
func (x *Proc) owner() context.Context {
	if x.p != nil {
		return x.p.Context()
	}
	return nil
}
