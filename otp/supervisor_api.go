package otp

import (
	"fmt"
	"strings"
	"time"

	"github.com/gonode/gonode/proc"
)

// The supervisor's own calls. Each is a proc.Call from the caller to a
// supervisor of the caller's node; the requests are Go values that do not
// cross nodes, so a supervisor of another node is asked there (rpc).
type (
	whichReq     struct{}
	countReq     struct{}
	historyReq   struct{}
	terminateReq struct {
		id  string
		pid proc.Pid // dynamic supervisors stop children by pid
	}
	restartReq struct{ id string }
	deleteReq  struct{ id string }
	startReq   struct{ spec ChildSpec }
	stopReq    struct{ reason any }
	infoReq    struct{}
	callResult struct {
		v   any
		err error
	}
)

// callTimeout bounds a call to a supervisor; stopping children can take
// their shutdown times, so it is long (OTP waits for ever).
const callTimeout = time.Hour

func supCall(caller *proc.Process, sup proc.Pid, req any) (any, error) {
	return supCallWithin(caller, sup, req, callTimeout)
}

// supCallWithin is supCall giving up after timeout (proc.ErrTimeout).
func supCallWithin(caller *proc.Process, sup proc.Pid, req any, timeout time.Duration) (any, error) {
	if !caller.Node().IsLocal(sup) {
		return nil, fmt.Errorf("%v: %w", sup, ErrNotLocal)
	}
	r, err := caller.Call(sup, req, timeout)
	if err != nil {
		return nil, err
	}
	res, ok := r.(callResult)
	if !ok {
		return nil, fmt.Errorf("%v is not a supervisor (it answered %v)", sup, r)
	}
	return res.v, res.err
}

// WhichChildren lists a supervisor's children in start order
// (Supervisor.which_children).
func WhichChildren(caller *proc.Process, sup proc.Pid) ([]ChildInfo, error) {
	v, err := supCall(caller, sup, whichReq{})
	cs, _ := v.([]ChildInfo)
	return cs, err
}

// CountChildren counts a supervisor's children (Supervisor.count_children).
func CountChildren(caller *proc.Process, sup proc.Pid) (ChildCounts, error) {
	v, err := supCall(caller, sup, countReq{})
	c, _ := v.(ChildCounts)
	return c, err
}

// History returns the supervisor's last restarts and failures, oldest
// first.
func History(caller *proc.Process, sup proc.Pid) ([]Event, error) {
	v, err := supCall(caller, sup, historyReq{})
	h, _ := v.([]Event)
	return h, err
}

// TerminateChild stops the child id and keeps its spec, so that
// RestartChild can start it again (Supervisor.terminate_child). A
// temporary child's spec is dropped.
func TerminateChild(caller *proc.Process, sup proc.Pid, id string) error {
	_, err := supCall(caller, sup, terminateReq{id: id})
	return err
}

// TerminateChildPid stops a dynamic supervisor's child and forgets it
// (DynamicSupervisor.terminate_child).
func TerminateChildPid(caller *proc.Process, sup, child proc.Pid) error {
	_, err := supCall(caller, sup, terminateReq{pid: child})
	return err
}

// RestartChild starts again a child stopped by TerminateChild
// (Supervisor.restart_child).
func RestartChild(caller *proc.Process, sup proc.Pid, id string) (proc.Pid, error) {
	v, err := supCall(caller, sup, restartReq{id: id})
	pid, _ := v.(proc.Pid)
	return pid, err
}

// DeleteChild forgets the spec of a stopped child (Supervisor.delete_child).
func DeleteChild(caller *proc.Process, sup proc.Pid, id string) error {
	_, err := supCall(caller, sup, deleteReq{id: id})
	return err
}

// StartChild adds a child to a supervisor and starts it
// (Supervisor.start_child, DynamicSupervisor.start_child).
func StartChild(caller *proc.Process, sup proc.Pid, spec ChildSpec) (proc.Pid, error) {
	v, err := supCall(caller, sup, startReq{spec: spec})
	pid, _ := v.(proc.Pid)
	return pid, err
}

// StopSupervisor stops a supervisor's children in reverse order, then the
// supervisor itself with reason, and returns once it is dead
// (Supervisor.stop).
func StopSupervisor(caller *proc.Process, sup proc.Pid, reason any) error {
	ref := caller.Monitor(sup)
	if _, err := supCall(caller, sup, stopReq{reason: reason}); err != nil {
		caller.Demonitor(ref, true)
		return err
	}
	_, err := caller.ReceiveMatchTimeout(callTimeout, func(m any) bool {
		d, ok := m.(proc.DownMsg)
		return ok && d.Ref == ref
	})
	return err
}

// supInfo is what a supervisor tells Tree about itself.
type supInfo struct {
	strategy Strategy
	children []ChildInfo
}

// TreeNode is one supervisor of a supervision tree and its children.
type TreeNode struct {
	Pid      proc.Pid
	Strategy Strategy
	Children []TreeChild
}

// TreeChild is a child in a tree; Sub is set for a child supervisor of
// the same node.
type TreeChild struct {
	ChildInfo
	Sub *TreeNode
}

// Tree returns the supervision tree under sup: its children and, for
// child supervisors of this node, theirs.
func Tree(caller *proc.Process, sup proc.Pid) (*TreeNode, error) {
	return TreeWithin(caller, sup, callTimeout)
}

// TreeWithin is Tree waiting at most timeout for each supervisor's
// answer, for viewers that must not hang on a supervisor busy restarting
// (the web view): a subtree that does not answer in time is a leaf.
func TreeWithin(caller *proc.Process, sup proc.Pid, timeout time.Duration) (*TreeNode, error) {
	v, err := supCallWithin(caller, sup, infoReq{}, timeout)
	if err != nil {
		return nil, err
	}
	in := v.(supInfo)
	t := &TreeNode{Pid: sup, Strategy: in.strategy}
	for _, c := range in.children {
		tc := TreeChild{ChildInfo: c}
		if c.Type == SupervisorChild && !c.Pid.IsZero() && caller.Node().IsLocal(c.Pid) {
			tc.Sub, _ = TreeWithin(caller, c.Pid, timeout) // it may have stopped meanwhile: shown as a leaf
		}
		t.Children = append(t.Children, tc)
	}
	return t, nil
}

// String draws the tree, one process a line, with each child's node.
func (t *TreeNode) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %s", t.Pid, t.Strategy)
	t.draw(&b, "")
	return b.String()
}

func (t *TreeNode) draw(b *strings.Builder, indent string) {
	for i, c := range t.Children {
		branch, next := "├─ ", "│  "
		if i == len(t.Children)-1 {
			branch, next = "└─ ", "   "
		}
		id := c.ID
		if id == "" {
			id = ":undefined"
		}
		where := ":undefined"
		switch {
		case c.Restarting:
			where = ":restarting"
		case !c.Pid.IsZero():
			where = fmt.Sprintf("%v on %s", c.Pid, c.Pid.Node)
		}
		fmt.Fprintf(b, "\n%s%s%s %s %s", indent, branch, id, where, c.Type)
		if c.Sub != nil {
			fmt.Fprintf(b, " %s", c.Sub.Strategy)
			c.Sub.draw(b, indent+next)
		}
	}
}

// handleCall answers one of the calls above.
func (s *supervisor) handleCall(req proc.CallRequest) {
	var res callResult
	switch r := req.Request.(type) {
	case whichReq:
		res.v = s.which()
	case countReq:
		res.v = s.count()
	case historyReq:
		res.v = append([]Event(nil), s.history...)
	case infoReq:
		res.v = supInfo{strategy: s.o.Strategy, children: s.which()}
	case terminateReq:
		res.err = s.terminateChild(r)
	case restartReq:
		res.v, res.err = s.restartChild(r.id)
	case deleteReq:
		res.err = s.deleteChild(r.id)
	case startReq:
		res.v, res.err = s.startChild(r.spec)
	case stopReq:
		s.terminateAll()
		_ = s.p.Reply(req, res)
		s.p.Exit(r.reason)
	default:
		res.err = fmt.Errorf("supervisor: unknown request %T", req.Request)
	}
	_ = s.p.Reply(req, res)
}

func (s *supervisor) which() []ChildInfo {
	out := make([]ChildInfo, len(s.children))
	for i, c := range s.children {
		out[i] = ChildInfo{ID: c.spec.ID, Pid: c.pid, Node: c.node, Type: c.spec.Type,
			Restart: c.spec.Restart, Restarting: c.restarting}
	}
	return out
}

func (s *supervisor) count() ChildCounts {
	n := ChildCounts{Specs: len(s.children)}
	for _, c := range s.children {
		if !c.pid.IsZero() {
			n.Active++
		}
		if c.spec.Type == SupervisorChild {
			n.Supervisors++
		} else {
			n.Workers++
		}
	}
	return n
}

func (s *supervisor) find(id string) *child {
	for _, c := range s.children {
		if c.spec.ID == id {
			return c
		}
	}
	return nil
}

func (s *supervisor) terminateChild(r terminateReq) error {
	if s.o.Strategy == Dynamic {
		c := s.byPid[r.pid]
		if c == nil {
			return fmt.Errorf("%v: %w", r.pid, ErrNotFound)
		}
		s.terminate(c)
		s.remove(c)
		return nil
	}
	c := s.find(r.id)
	if c == nil {
		return fmt.Errorf("%q: %w", r.id, ErrNotFound)
	}
	s.terminate(c)
	if c.spec.Restart == Temporary {
		s.remove(c)
	}
	return nil
}

func (s *supervisor) restartChild(id string) (proc.Pid, error) {
	if s.o.Strategy == Dynamic {
		return proc.Pid{}, ErrNotDynamic
	}
	c := s.find(id)
	switch {
	case c == nil:
		return proc.Pid{}, fmt.Errorf("%q: %w", id, ErrNotFound)
	case c.restarting:
		return proc.Pid{}, fmt.Errorf("%q: %w", id, ErrRestarting)
	case !c.pid.IsZero():
		return proc.Pid{}, fmt.Errorf("%q: %w", id, ErrRunning)
	}
	if err := s.start(c, false); err != nil {
		return proc.Pid{}, err
	}
	return c.pid, nil
}

func (s *supervisor) deleteChild(id string) error {
	if s.o.Strategy == Dynamic {
		return ErrNotDynamic
	}
	c := s.find(id)
	switch {
	case c == nil:
		return fmt.Errorf("%q: %w", id, ErrNotFound)
	case c.restarting:
		return fmt.Errorf("%q: %w", id, ErrRestarting)
	case !c.pid.IsZero():
		return fmt.Errorf("%q: %w", id, ErrRunning)
	}
	s.remove(c)
	return nil
}

func (s *supervisor) startChild(spec ChildSpec) (proc.Pid, error) {
	if err := checkSpec(&spec); err != nil {
		return proc.Pid{}, err
	}
	if s.o.Strategy == Dynamic {
		if s.o.MaxChildren > 0 && len(s.children) >= s.o.MaxChildren {
			return proc.Pid{}, ErrMaxChildren
		}
	} else if c := s.find(spec.ID); c != nil {
		if !c.pid.IsZero() {
			return c.pid, fmt.Errorf("%q: %w (already started as %v)", spec.ID, ErrAlreadyExists, c.pid)
		}
		return proc.Pid{}, fmt.Errorf("%q: %w (already present)", spec.ID, ErrAlreadyExists)
	}
	c := &child{spec: spec}
	if err := s.start(c, false); err != nil {
		return proc.Pid{}, err
	}
	s.children = append(s.children, c)
	return c.pid, nil
}
