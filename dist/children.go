package dist

import (
	"context"
	"fmt"
	"time"

	"github.com/gonode/gonode/proc"
)

// What supervisors (package otp) need of the distribution layer: which
// nodes are up, and a way to start a child on any node. dist does not
// import otp; these methods fit its Cluster and Spawner interfaces.

// Connected reports whether a connection to node is up now (this node
// counts as connected to itself).
func (n *Node) Connected(node string) bool {
	return node == n.cfg.Name || n.connFor(node) != nil
}

// childStartTimeout bounds the start of one child, connection set-up
// included: a supervisor answers nothing while it starts a child.
const childStartTimeout = 5 * time.Second

// SpawnChild starts the function registered as fn on node (this one
// included) as a process linked to parent, whose crashes the node leaves
// to parent to report: a supervisor's child.
func (n *Node) SpawnChild(parent *proc.Process, node, fn string, args []any) (proc.Pid, error) {
	if node != n.cfg.Name {
		ctx, cancel := context.WithTimeout(parent.Context(), childStartTimeout)
		defer cancel()
		pid, _, err := n.SpawnRemote(ctx, parent, node, fn, args, SpawnOptions{Link: true, Supervised: true})
		return pid, err
	}
	// Through the codec, so that the child gets the same types on any node.
	m, err := n.roundTrip(Message{Kind: KindSpawnRequest, Fn: fn, Args: args})
	if err != nil {
		return proc.Pid{}, fmt.Errorf("spawn %s on %s: %w", fn, node, err)
	}
	call, rerr := n.resolve(&m)
	if rerr != nil {
		return proc.Pid{}, fmt.Errorf("spawn %s on %s: %w", fn, node, rerr)
	}
	pid, _, err := parent.SpawnOpt(func(p *proc.Process) {
		ctx := context.WithValue(p.Context(), ctxKey{}, spawnCtx{p: p})
		if _, err := call(ctx, m.Args); err != nil {
			p.Exit(AsRemoteError(err))
		}
	}, proc.SpawnOptions{Link: true, Supervised: true, Label: "child " + fn})
	return pid, err
}
