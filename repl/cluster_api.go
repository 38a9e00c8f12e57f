package repl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/cluster/global"
	"github.com/gonode/gonode/cluster/pg"
	"github.com/gonode/gonode/cluster/placement"
	"github.com/gonode/gonode/proc"
)

// The shell's helpers for the cluster services (cluster.go): global names
// (Erlang's :global), process groups in the default scope (:pg), and
// placement (spawn and async accept a placement where they take a node).
// Reads (whereisGlobal, members, loads) are served from this node's
// replica at local speed; registerGlobal and unregisterGlobal agree with
// the peers, so they wait at most a timeout (5 s by default) and then
// fail with the reason instead of hanging.

// Global names a process registered cluster-wide, for send and monitor:
// send(global("chat"), msg).
type Global struct{ Name string }

func (g Global) String() string { return fmt.Sprintf("global(%q)", g.Name) }

// Placement says where spawn or async runs: leastLoaded(), local(),
// hash(key), among(nodes...).
type Placement = placement.Strategy

// Loads is every node's load record, printed as a table by loads().
type Loads []placement.Load

func (l Loads) String() string { return placement.Table(l) }

// clusterTimeout returns the caller's context bounded by the timeout given
// (at most one) or clusterCallTimeout.
func (x *Proc) clusterTimeout(what string, timeout []time.Duration) (context.Context, time.Duration, context.CancelFunc) {
	if len(timeout) > 1 {
		fail("%s takes at most one timeout", what)
	}
	d := clusterCallTimeout
	if len(timeout) == 1 {
		d = timeout[0]
	}
	ctx, cancel := context.WithTimeout(x.ctx(), d)
	return ctx, d, cancel
}

// RegisterGlobal gives name to pid in the whole cluster: true once every
// node has stored it, false if another process holds it (a warning says
// which). A dead pid, a timeout or an interrupt fails the snippet.
func (x *Proc) RegisterGlobal(name string, pid proc.Pid, timeout ...time.Duration) bool {
	c := x.needCluster()
	ctx, d, cancel := x.clusterTimeout("registerGlobal", timeout)
	defer cancel()
	err := c.global.Register(ctx, name, x.rt.node.Resolve(pid))
	switch {
	case err == nil:
		return true
	case errors.Is(err, global.ErrNameTaken):
		holder := "another process"
		if h, ok := c.global.Whereis(name); ok {
			holder = h.String()
		}
		fmt.Fprintf(x.rt.errw, "[warning] registerGlobal: %q is held by %s\n", name, holder)
		return false
	case errors.Is(err, global.ErrTimeout) && x.ctx().Err() == nil:
		fail("registerGlobal %q: no agreement with every node within %v (%w)", name, d, err)
	}
	fail("registerGlobal %q: %w", name, err)
	return false
}

// WhereisGlobal returns the holder of a global name, or nil.
func (x *Proc) WhereisGlobal(name string) any {
	if pid, ok := x.needCluster().global.Whereis(name); ok {
		return pid
	}
	return nil
}

// UnregisterGlobal drops a global name on every node (true; a name not
// registered is no error). A timeout fails the snippet.
func (x *Proc) UnregisterGlobal(name string, timeout ...time.Duration) bool {
	c := x.needCluster()
	ctx, d, cancel := x.clusterTimeout("unregisterGlobal", timeout)
	defer cancel()
	err := c.global.Unregister(ctx, name)
	if errors.Is(err, global.ErrTimeout) && x.ctx().Err() == nil {
		fail("unregisterGlobal %q: not every node answered within %v; the name is gone here (%w)", name, d, err)
	}
	x.check(err, fmt.Sprintf("unregisterGlobal %q", name))
	return true
}

// RegisteredGlobal lists the global names, sorted.
func (x *Proc) RegisteredGlobal() []string { return x.needCluster().global.Names() }

// sendGlobal sends msg to the holder of a global name; a name nobody
// holds fails, as a send to an unregistered local name does.
func (x *Proc) sendGlobal(g Global, msg any) {
	pid, ok := x.needCluster().global.Whereis(g.Name)
	if !ok {
		fail("send: %w: %q", global.ErrNotRegistered, g.Name)
	}
	x.check(x.proc().Send(pid, msg), "send")
}

// monitorGlobal monitors the holder of a global name.
func (x *Proc) monitorGlobal(g Global) proc.Ref {
	pid, ok := x.needCluster().global.Whereis(g.Name)
	if !ok {
		fail("monitor: %w: %q", global.ErrNotRegistered, g.Name)
	}
	return x.proc().Monitor(pid)
}

// groupPids returns the pids to join or leave: those given, or the caller.
func (x *Proc) groupPids(pids []proc.Pid) []proc.Pid {
	if len(pids) == 0 {
		return []proc.Pid{x.proc().Pid()}
	}
	out := make([]proc.Pid, len(pids))
	for i, p := range pids {
		out[i] = x.rt.node.Resolve(p)
	}
	return out
}

// Join adds the processes (the caller if none) to group, cluster-wide.
// They must be of this node: a process of another node joins there.
func (x *Proc) Join(group string, pids ...proc.Pid) bool {
	err := x.needCluster().pg.Join(group, x.groupPids(pids)...)
	if errors.Is(err, pg.ErrNotLocal) {
		fail("join %q: %v (join it on its own node: from the process itself, or by rpc there)", group, err)
	}
	x.check(err, fmt.Sprintf("join %q", group))
	return true
}

// Leave removes one membership of group from each process (the caller if
// none); false if none was a member.
func (x *Proc) Leave(group string, pids ...proc.Pid) bool {
	err := x.needCluster().pg.Leave(group, x.groupPids(pids)...)
	if errors.Is(err, pg.ErrNotJoined) {
		return false
	}
	x.check(err, fmt.Sprintf("leave %q", group))
	return true
}

// Members returns group's members on every node (a process once per join).
func (x *Proc) Members(group string) []proc.Pid {
	return nonNil(x.needCluster().pg.Members(group))
}

// LocalMembers returns group's members on this node.
func (x *Proc) LocalMembers(group string) []proc.Pid {
	return nonNil(x.needCluster().pg.LocalMembers(group))
}

// Groups returns the groups with members anywhere, sorted.
func (x *Proc) Groups() []string {
	if g := x.needCluster().pg.Groups(); g != nil {
		return g
	}
	return []string{}
}

// MonitorGroup subscribes the caller to group's membership: a JoinMsg or
// LeaveMsg arrives in its mailbox for each change. It returns the ref
// (for demonitorGroup) and the members when the subscription began.
func (x *Proc) MonitorGroup(group string) (proc.Ref, []proc.Pid) {
	ref, members, err := x.needCluster().pg.Monitor(group, x.proc().Pid())
	x.check(err, fmt.Sprintf("monitorGroup %q", group))
	return ref, nonNil(members)
}

// DemonitorGroup ends a subscription of monitorGroup.
func (x *Proc) DemonitorGroup(ref proc.Ref) bool { return x.needCluster().pg.Demonitor(ref) }

func nonNil(p []proc.Pid) []proc.Pid {
	if p == nil {
		return []proc.Pid{}
	}
	return p
}

// Loads returns every node's load record held here.
func (x *Proc) Loads() Loads { return Loads(x.needCluster().placement.Loads()) }

// ExplainPlacement says which node the placement would choose now and
// why, without counting a task placed there; an error value when no node
// fits.
func (x *Proc) ExplainPlacement(st Placement) any {
	why, err := x.needCluster().placement.Explain(st)
	if err != nil {
		return fmt.Errorf("explainPlacement %v: %w", st, err)
	}
	return why
}

// place returns the node a placement chooses, or the error saying why
// none fits.
func (x *Proc) place(st Placement) (string, error) {
	node, _, err := x.needCluster().placement.Choose(st)
	if err != nil {
		return "", fmt.Errorf("%v: %w", st, err)
	}
	return node, nil
}
