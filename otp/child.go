package otp

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gonode/gonode/proc"
)

// Restart says when a supervisor restarts a child that exited (Erlang's
// restart type).
type Restart uint8

const (
	Permanent Restart = iota // always restarted
	Transient                // restarted only after an abnormal exit (not normal or shutdown)
	Temporary                // never restarted; forgotten when it exits
)

func (r Restart) String() string {
	return [...]string{"permanent", "transient", "temporary"}[r]
}

// ChildType tells workers from supervisors, as Erlang's child type does:
// it changes the default shutdown time and what Tree shows.
type ChildType uint8

const (
	Worker          ChildType = iota // a process doing work
	SupervisorChild                  // a supervisor: a subtree
)

func (t ChildType) String() string {
	if t == SupervisorChild {
		return "supervisor"
	}
	return "worker"
}

// Shutdown times with a meaning of their own. A ChildSpec's zero Shutdown
// means the default: 5 s for a worker, Infinity for a supervisor.
const (
	BrutalKill time.Duration = -1            // kill at once, untrappably
	Infinity   time.Duration = math.MaxInt64 // wait for the child however long it takes
)

// StartFunc starts one instance of a child on node, linked to the
// supervisor process sup, and returns its pid. It runs on the supervisor's
// goroutine, so it must not wait long: the supervisor answers nothing
// meanwhile. node is the supervisor's own node unless the spec names
// others.
type StartFunc func(sup *proc.Process, node string) (proc.Pid, error)

// ChildSpec describes a child to a supervisor.
type ChildSpec struct {
	ID    string    // unique among the supervisor's children ("" for dynamic children)
	Start StartFunc // how to start it
	// Nodes, in order of preference, where the child may run; empty means
	// the supervisor's node. The child runs on the first one that is up;
	// when its node goes down it moves to the next one that is, else to
	// the supervisor's node.
	Nodes    []string
	Restart  Restart
	Shutdown time.Duration // time allowed to stop after exit(shutdown): 0 default, BrutalKill, Infinity
	Type     ChildType
}

func (c *ChildSpec) shutdown() time.Duration {
	switch {
	case c.Shutdown != 0:
		return c.Shutdown
	case c.Type == SupervisorChild:
		return Infinity
	}
	return 5 * time.Second
}

// Func is the StartFunc of a Go function run as a goroutine-style process
// on the supervisor's node. A Go closure cannot travel, so asked to start
// on another node it fails; use a Spawner for children of other nodes.
func Func(fn proc.Func) StartFunc {
	return func(sup *proc.Process, node string) (proc.Pid, error) {
		if node != sup.Node().Name() {
			return proc.Pid{}, fmt.Errorf("%w: a Go function cannot start on %s; register it there by name and use otp.Named", ErrBadSpec, node)
		}
		pid, _, err := sup.SpawnOpt(fn, proc.SpawnOptions{Link: true, Supervised: true})
		return pid, err
	}
}

// Spawner starts a function registered by name on another node, as a
// process linked to parent that the node does not report crashes of (its
// supervisor does). The distribution layer provides one (dist.Node).
type Spawner interface {
	SpawnChild(parent *proc.Process, node, fn string, args []any) (proc.Pid, error)
}

// Named is the StartFunc of the function registered as fn on whichever node
// the child runs, started through sp.
func Named(sp Spawner, fn string, args ...any) StartFunc {
	return func(sup *proc.Process, node string) (proc.Pid, error) {
		return sp.SpawnChild(sup, node, fn, args)
	}
}

// Cluster tells a supervisor which nodes are connected, so that it moves
// children off a node that went down and kills, when a partition heals,
// children it lost contact with. The distribution layer provides one
// (dist.Node). Without one a supervisor avoids a lost node for one
// restart period and cannot resolve duplicates after a partition.
type Cluster interface {
	Connected(node string) bool
}

// Errors callers branch on.
var (
	ErrNotFound      = errors.New("otp: no such child")                              // Erlang's not_found
	ErrRunning       = errors.New("otp: the child is running")                       // Erlang's running
	ErrRestarting    = errors.New("otp: the child is restarting")                    // Erlang's restarting
	ErrAlreadyExists = errors.New("otp: a child with that id already exists")        // already_present / already_started
	ErrMaxChildren   = errors.New("otp: the supervisor has its maximum of children") // max_children
	ErrBadSpec       = errors.New("otp: bad child spec")
	ErrNotLocal      = errors.New("otp: the supervisor is on another node: call it there (rpc)")
	ErrNotDynamic    = errors.New("otp: not a dynamic supervisor")
)

// ChildInfo is one child as WhichChildren reports it (Erlang's
// {Id, Child, Type, Modules}, with the node and restart type added).
type ChildInfo struct {
	ID         string
	Pid        proc.Pid // zero while not running
	Node       string   // where it runs, or last ran
	Type       ChildType
	Restart    Restart
	Restarting bool // its restart failed and is being retried
}

func (c ChildInfo) String() string {
	id := fmt.Sprintf("%q", c.ID)
	if c.ID == "" {
		id = ":undefined"
	}
	pid := ":undefined"
	switch {
	case c.Restarting:
		pid = ":restarting"
	case !c.Pid.IsZero():
		pid = c.Pid.String()
	}
	return fmt.Sprintf("{%s, %s, :%s}", id, pid, c.Type)
}

// ChildCounts is CountChildren's answer (Erlang's count_children).
type ChildCounts struct {
	Specs, Active, Supervisors, Workers int
}

func (c ChildCounts) String() string {
	return fmt.Sprintf("%%{active: %d, specs: %d, supervisors: %d, workers: %d}", c.Active, c.Specs, c.Supervisors, c.Workers)
}
