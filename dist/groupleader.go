package dist

import (
	"context"

	"github.com/gonode/gonode/proc"
)

type groupLeaderKey struct{}

// WithGroupLeader returns a context whose calls (RPC, RPCSource, Cast,
// Multicall) carry gl, the caller's group leader: the function they run
// finds it with GroupLeader, and sends its output there. As erpc's, a
// call's output then comes out where the caller's does.
func WithGroupLeader(ctx context.Context, gl proc.Pid) context.Context {
	return context.WithValue(ctx, groupLeaderKey{}, gl)
}

// GroupLeader returns the group leader that the call running under ctx
// came with (see WithGroupLeader).
func GroupLeader(ctx context.Context) (proc.Pid, bool) {
	gl, ok := ctx.Value(groupLeaderKey{}).(proc.Pid)
	return gl, ok && !gl.IsZero()
}

// withCallerGroupLeader gives a call's function the caller's group leader
// that m carries, if any.
func withCallerGroupLeader(ctx context.Context, m *Message) context.Context {
	if gl, ok := m.Payload.(proc.Pid); ok && !gl.IsZero() {
		return WithGroupLeader(ctx, gl)
	}
	return ctx
}
