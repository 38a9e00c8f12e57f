package repl

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
)

// The shell's supervision helpers: supervise, child and their options,
// and the child operations. Children are shipped functions (Bundles), so
// a supervisor can start and restart them on any node: on this one in an
// interpreter of their own, on another as source.

// Child is what child(...) returns: a child spec for supervise or
// startChild.
type Child struct{ spec otp.ChildSpec }

func (c Child) String() string {
	where := ""
	if len(c.spec.Nodes) > 0 {
		where = ", on: " + strings.Join(c.spec.Nodes, " ")
	}
	return fmt.Sprintf("%%Child{%q, :%s%s}", c.spec.ID, c.spec.Restart, where)
}

// ChildOpt is an option of child(...) that on(...) makes.
type ChildOpt struct{ nodes []string }

// SupOpt is an option of supervise(...): intensity(...) or supName(...).
type SupOpt struct{ apply func(*otp.SupervisorOptions) }

var strategies = map[string]otp.Strategy{
	"one_for_one": otp.OneForOne, "one_for_all": otp.OneForAll,
	"rest_for_one": otp.RestForOne, "dynamic": otp.Dynamic,
}

var restartTypes = map[string]otp.Restart{
	"permanent": otp.Permanent, "transient": otp.Transient, "temporary": otp.Temporary,
}

// Supervise starts a supervisor linked to the caller, with its children.
func (x *Proc) Supervise(strategy any, args ...any) proc.Pid {
	var o otp.SupervisorOptions
	switch s := strategy.(type) {
	case string:
		st, ok := strategies[s]
		if !ok {
			fail("supervise: unknown strategy %q: want one_for_one, one_for_all, rest_for_one or dynamic", s)
		}
		o.Strategy = st
	case otp.Strategy:
		o.Strategy = s
	default:
		fail("supervise: the strategy is a string such as \"one_for_one\", got %T", strategy)
	}
	var specs []otp.ChildSpec
	for i, a := range args {
		switch a := a.(type) {
		case Child:
			specs = append(specs, a.spec)
		case SupOpt:
			a.apply(&o)
		default:
			fail("supervise: argument %d is a %T: want child(...), intensity(...) or supName(...)", i+2, a)
		}
	}
	if x.rt.dist != nil {
		o.Cluster = x.rt.dist
	}
	pid, err := otp.StartSupervisor(x.proc(), nil, o, specs...)
	x.check(err, "supervise")
	return pid
}

// Intensity sets how many restarts a supervisor allows in a period.
func Intensity(max int, period time.Duration) SupOpt {
	return SupOpt{func(o *otp.SupervisorOptions) {
		o.MaxRestarts, o.Period = max, period
		if max == 0 {
			o.MaxRestarts = otp.NoRestarts
		}
	}}
}

// SupName registers the supervisor under a name.
func SupName(name string) SupOpt { return SupOpt{func(o *otp.SupervisorOptions) { o.Name = name }} }

// On names the nodes a child may run on, in order of preference.
func On(nodes ...string) ChildOpt { return ChildOpt{nodes: nodes} }

// Child builds a child spec from an id, a shipped function and options:
// on(nodes...), a restart type ("permanent", "transient", "temporary"),
// a shutdown time (a time.Duration, or "brutal_kill").
func (x *Proc) Child(id string, fn any, opts ...any) Child {
	b, ok := fn.(eval.Bundle)
	if !ok {
		fail("child: the function must be a func literal or a function declared in this shell")
	}
	spec := otp.ChildSpec{ID: id}
	for _, o := range opts {
		switch o := o.(type) {
		case ChildOpt:
			for _, n := range o.nodes {
				if !proc.ValidNodeName(n) {
					fail("child %q: bad node name %q: want name@host", id, n)
				}
			}
			spec.Nodes = o.nodes
		case time.Duration:
			spec.Shutdown = o
		case string:
			if r, ok := restartTypes[o]; ok {
				spec.Restart = r
			} else if o == "brutal_kill" {
				spec.Shutdown = otp.BrutalKill
			} else {
				fail("child %q: unknown option %q: want permanent, transient, temporary or brutal_kill", id, o)
			}
		default:
			fail("child %q: unknown option of type %T", id, o)
		}
	}
	spec.Start = x.rt.childStarter(id, b)
	return Child{spec: spec}
}

// childStarter starts a shipped function as a supervised child: here in an
// interpreter of its own, elsewhere as source that the node compiles. A
// child of a declared function starts on its latest declarations, pushed
// ones too (latestBundle, push.go).
func (rt *Runtime) childStarter(id string, spec eval.Bundle) otp.StartFunc {
	return func(sup *proc.Process, node string) (proc.Pid, error) {
		b := rt.latestBundle(spec)
		if node == rt.node.Name() {
			pid, _, err := sup.SpawnOpt(func(p *proc.Process) {
				rt.runShipped(p, func(ctx context.Context) (*eval.Func, error) { return rt.session.Load(ctx, b, rt.async) }, nil, proc.Pid{})
			}, proc.SpawnOptions{Link: true, Supervised: true, Label: "child " + id})
			return pid, err
		}
		if rt.dist == nil {
			return proc.Pid{}, errNoNode
		}
		src, err := rt.session.Source(b)
		if err != nil {
			return proc.Pid{}, err
		}
		ctx, cancel := context.WithTimeout(sup.Context(), 5*time.Second)
		defer cancel()
		pid, _, err := rt.dist.SpawnRemote(ctx, sup, node, "", nil, dist.SpawnOptions{
			Link: true, Supervised: true, Source: src, GroupLeader: rt.groupLeader,
		})
		return pid, err
	}
}

// supPid turns what the caller named (a pid, a registered name) into a
// supervisor's pid on this node.
func (x *Proc) supPid(what string, sup any) proc.Pid {
	switch s := sup.(type) {
	case proc.Pid:
		return x.rt.node.Resolve(s)
	case string:
		if pid, ok := x.rt.node.Whereis(s); ok {
			return pid
		}
		fail("%s: no process is registered as %q", what, s)
	}
	fail("%s: want a supervisor's pid or registered name, got %T", what, sup)
	return proc.Pid{}
}

// WhichChildren lists a supervisor's children.
func (x *Proc) WhichChildren(sup any) []otp.ChildInfo {
	cs, err := otp.WhichChildren(x.proc(), x.supPid("whichChildren", sup))
	x.check(err, "whichChildren")
	return cs
}

// CountChildren counts a supervisor's children.
func (x *Proc) CountChildren(sup any) otp.ChildCounts {
	c, err := otp.CountChildren(x.proc(), x.supPid("countChildren", sup))
	x.check(err, "countChildren")
	return c
}

// Tree returns the supervision tree under sup; it prints as a tree.
func (x *Proc) Tree(sup any) *otp.TreeNode {
	t, err := otp.Tree(x.proc(), x.supPid("tree", sup))
	x.check(err, "tree")
	return t
}

// Restarts is what restarts(sup) returns: it prints one event a line.
type Restarts []otp.Event

func (r Restarts) String() string {
	if len(r) == 0 {
		return "no restarts"
	}
	lines := make([]string, len(r))
	for i, e := range r {
		lines[i] = e.Time.Format("15:04:05.000") + " " + e.String()
	}
	return strings.Join(lines, "\n")
}

// Restarts returns a supervisor's restart history.
func (x *Proc) Restarts(sup any) Restarts {
	h, err := otp.History(x.proc(), x.supPid("restarts", sup))
	x.check(err, "restarts")
	return h
}

// TerminateChild stops a child: by id, or by pid for a dynamic supervisor.
func (x *Proc) TerminateChild(sup any, id any) bool {
	s := x.supPid("terminateChild", sup)
	var err error
	switch id := id.(type) {
	case string:
		err = otp.TerminateChild(x.proc(), s, id)
	case proc.Pid:
		err = otp.TerminateChildPid(x.proc(), s, x.rt.node.Resolve(id))
	default:
		fail("terminateChild: the child is an id (string) or, for a dynamic supervisor, a pid; got %T", id)
	}
	x.check(err, "terminateChild")
	return true
}

// RestartChild starts again a child stopped by terminateChild.
func (x *Proc) RestartChild(sup any, id string) proc.Pid {
	pid, err := otp.RestartChild(x.proc(), x.supPid("restartChild", sup), id)
	x.check(err, "restartChild")
	return pid
}

// DeleteChild forgets a stopped child.
func (x *Proc) DeleteChild(sup any, id string) bool {
	x.check(otp.DeleteChild(x.proc(), x.supPid("deleteChild", sup), id), "deleteChild")
	return true
}

// StartChild adds a child to a supervisor and starts it.
func (x *Proc) StartChild(sup any, c Child) proc.Pid {
	pid, err := otp.StartChild(x.proc(), x.supPid("startChild", sup), c.spec)
	x.check(err, "startChild")
	return pid
}
