package otp

import (
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/proc"
)

// Strategy is how a supervisor restarts its children when one exits.
type Strategy uint8

const (
	OneForOne  Strategy = iota // restart only the child that exited
	OneForAll                  // stop every other child, then restart them all in order
	RestForOne                 // stop the children started after it, then restart it and them in order
	Dynamic                    // children added at run time with StartChild, each restarted alone (DynamicSupervisor)
)

func (s Strategy) String() string {
	return [...]string{"one_for_one", "one_for_all", "rest_for_one", "dynamic"}[s]
}

// NoRestarts, as SupervisorOptions.MaxRestarts, allows no restart at all:
// the first child that must be restarted stops the supervisor.
const NoRestarts = -1

// SupervisorOptions configure a supervisor. The zero value is a
// one_for_one supervisor allowing 3 restarts in 5 s, as Elixir's default.
type SupervisorOptions struct {
	Strategy Strategy
	// MaxRestarts in Period (the intensity): one more and the supervisor
	// stops its children and exits with reason shutdown. 0 means 3;
	// NoRestarts means none.
	MaxRestarts int
	Period      time.Duration // 0 means 5 s
	Name        string        // register the supervisor under this name
	MaxChildren int           // Dynamic only: 0 means no limit
	Cluster     Cluster       // which nodes are up; nil: only what exits say
	// Report receives the supervisor's reports (restarts, children that
	// failed for good, its own stop). nil uses the node's reporter (see
	// SetReporter).
	Report func(Event)
}

func (o *SupervisorOptions) maxRestarts() int {
	switch {
	case o.MaxRestarts == 0:
		return 3
	case o.MaxRestarts < 0:
		return 0
	}
	return o.MaxRestarts
}

func (o *SupervisorOptions) period() time.Duration {
	if o.Period <= 0 {
		return 5 * time.Second
	}
	return o.Period
}

// StartSupervisor starts a supervisor and its children, in order, before
// it returns. With a parent process the supervisor is linked to it (start_link)
// and stops its children and exits when the parent does; n is then ignored
// (the parent's node is used). If a child fails to start, the children
// already started are stopped in reverse order and the error says which
// child failed and why; unlike OTP 25, the parent is not sent the
// supervisor's exit (OTP 26 also spares it).
func StartSupervisor(parent *proc.Process, n *proc.Node, o SupervisorOptions, specs ...ChildSpec) (proc.Pid, error) {
	if parent == nil && n == nil {
		return proc.Pid{}, fmt.Errorf("%w: a supervisor needs a parent process or a node", ErrBadSpec)
	}
	if err := checkSpecs(o, specs); err != nil {
		return proc.Pid{}, err
	}
	started := make(chan error, 1)
	body := func(p *proc.Process) {
		s := newSupervisor(p, o)
		if parent != nil {
			s.parent = parent.Pid()
		}
		if err := s.init(specs); err != nil {
			if parent != nil {
				_ = p.Unlink(parent.Pid())
			}
			started <- err
			p.Exit(proc.Shutdown)
		}
		started <- nil
		s.loop()
	}
	so := proc.SpawnOptions{TrapExit: true, Name: o.Name, Label: "supervisor " + o.Strategy.String()}
	var pid proc.Pid
	var err error
	if parent != nil {
		so.Link = true
		pid, _, err = parent.SpawnOpt(body, so)
	} else {
		pid, err = n.SpawnOpt(body, so)
	}
	if err != nil {
		return proc.Pid{}, err
	}
	if err := <-started; err != nil {
		return proc.Pid{}, err
	}
	return pid, nil
}

// SupervisorSpec is the ChildSpec of a supervisor nested under another,
// running on the parent supervisor's node.
func SupervisorSpec(id string, o SupervisorOptions, specs ...ChildSpec) ChildSpec {
	return ChildSpec{ID: id, Type: SupervisorChild, Start: func(sup *proc.Process, node string) (proc.Pid, error) {
		if node != sup.Node().Name() {
			return proc.Pid{}, fmt.Errorf("%w: a nested supervisor runs on its parent's node, not %s", ErrBadSpec, node)
		}
		return StartSupervisor(sup, nil, o, specs...)
	}}
}

func checkSpecs(o SupervisorOptions, specs []ChildSpec) error {
	if o.Strategy > Dynamic {
		return fmt.Errorf("%w: unknown strategy %d", ErrBadSpec, o.Strategy)
	}
	if o.Strategy == Dynamic && len(specs) > 0 {
		return fmt.Errorf("%w: a dynamic supervisor starts with no children; add them with StartChild", ErrBadSpec)
	}
	ids := make(map[string]bool, len(specs))
	for i := range specs {
		if err := checkSpec(&specs[i]); err != nil {
			return err
		}
		if ids[specs[i].ID] {
			return fmt.Errorf("%w: two children have the id %q", ErrBadSpec, specs[i].ID)
		}
		ids[specs[i].ID] = true
	}
	return nil
}

func checkSpec(c *ChildSpec) error {
	switch {
	case c.Start == nil:
		return fmt.Errorf("%w: child %q has no start function", ErrBadSpec, c.ID)
	case c.Restart > Temporary:
		return fmt.Errorf("%w: child %q has an unknown restart type %d", ErrBadSpec, c.ID, c.Restart)
	case c.Shutdown < BrutalKill:
		return fmt.Errorf("%w: child %q has a negative shutdown time", ErrBadSpec, c.ID)
	}
	for _, n := range c.Nodes {
		if !proc.ValidNodeName(n) {
			return fmt.Errorf("%w: child %q: bad node name %q: want name@host", ErrBadSpec, c.ID, n)
		}
	}
	return nil
}

// child is one child as the supervisor tracks it.
type child struct {
	spec       ChildSpec
	pid        proc.Pid // zero while not running
	node       string   // where it runs, or last ran
	restarting bool     // a restart failed; a retry is queued
}

// supervisor is the state of a supervisor process, owned by its goroutine.
type supervisor struct {
	p        *proc.Process
	o        SupervisorOptions
	parent   proc.Pid
	children []*child // in start order
	byPid    map[proc.Pid]*child
	restarts []time.Time // restarts within the period, oldest first

	// lostNodes holds when each node was last seen lost (a child exited
	// with noconnection): a lost node counts once per period toward the
	// intensity, and is not chosen for a child until it is connected again.
	lostNodes map[string]time.Time
	// orphans are children lost with their node, by node, which may still
	// run there if it was cut off rather than dead: killed once it is back.
	orphans map[string][]proc.Pid
	history []Event // the last historyLen events, oldest first
}

const historyLen = 100

func newSupervisor(p *proc.Process, o SupervisorOptions) *supervisor {
	return &supervisor{p: p, o: o, byPid: make(map[proc.Pid]*child),
		lostNodes: make(map[string]time.Time), orphans: make(map[string][]proc.Pid)}
}

// init starts the children in order; on a failure it stops those started.
func (s *supervisor) init(specs []ChildSpec) error {
	for _, spec := range specs {
		c := &child{spec: spec}
		if err := s.start(c, false); err != nil {
			s.terminateAll()
			return fmt.Errorf("supervisor: failed to start child %q: %w", spec.ID, err)
		}
		s.children = append(s.children, c)
	}
	return nil
}

// tryAgain is the message a supervisor sends itself to retry the
// restarts that failed (OTP's try_again_restart).
type tryAgain struct{}

// maxOrphans bounds the orphans remembered per node: a node that never
// comes back must not make its supervisor grow for ever.
const maxOrphans = 100_000

func appendCapped(pids []proc.Pid, pid proc.Pid, limit int) []proc.Pid {
	if len(pids) >= limit {
		pids = pids[1:]
	}
	return append(pids, pid)
}

// orphanPoll is how often a supervisor with orphans asks whether their
// nodes are back.
const orphanPoll = 500 * time.Millisecond

func (s *supervisor) loop() {
	for {
		var m any
		var err error
		if len(s.orphans) > 0 && s.o.Cluster != nil {
			m, err = s.p.ReceiveTimeout(orphanPoll)
		} else {
			m, err = s.p.Receive(nil)
		}
		if errors.Is(err, proc.ErrTimeout) {
			s.killOrphans()
			continue
		}
		switch m := m.(type) {
		case proc.ExitMsg:
			if !s.parent.IsZero() && m.From == s.parent {
				s.stop(m.Reason)
			}
			if c := s.byPid[m.From]; c != nil {
				s.childExited(c, m.Reason)
			}
		case proc.CallRequest:
			s.handleCall(m)
		case tryAgain:
			s.retry()
		}
		if len(s.orphans) > 0 {
			s.killOrphans()
		}
	}
}

// retry starts again, in order, the children whose restart failed and
// those of their group waiting behind them; it stops at the first that
// fails again (which queues the next retry).
func (s *supervisor) retry() {
	for _, c := range append([]*child(nil), s.children...) {
		if c.restarting && !s.restartOne(c, nil) {
			return
		}
	}
}

// stop ends the supervisor: children stopped in reverse order, then exit.
func (s *supervisor) stop(reason any) {
	s.terminateAll()
	s.p.Exit(reason)
}

// normalExit reports whether reason is an orderly stop: normal, shutdown
// or {shutdown, _}. A transient child that exits so stays down, and a
// server that stops so is not reported (GenServer does not log it).
func normalExit(reason any) bool {
	switch r := reason.(type) {
	case proc.Atom:
		return r == proc.Normal || r == proc.Shutdown
	case ShutdownReason:
		return true
	}
	return false
}

// ShutdownReason is Erlang's {shutdown, Detail}: an orderly stop that a
// transient child's supervisor does not restart, and that no crash report
// is printed for.
type ShutdownReason struct{ Detail any }

func (r ShutdownReason) String() string {
	return fmt.Sprintf("{:shutdown, %s}", proc.FormatReason(r.Detail))
}

// childExited applies the restart policy to a child that exited.
func (s *supervisor) childExited(c *child, reason any) {
	delete(s.byPid, c.pid)
	old := c.pid
	c.pid = proc.Pid{}
	lost := reason == proc.NoConnection
	if lost {
		s.orphans[old.Node] = appendCapped(s.orphans[old.Node], old, maxOrphans)
	}
	switch {
	case c.spec.Restart == Temporary:
		s.remove(c)
		if !normalExit(reason) {
			s.report(Event{Child: c.spec.ID, Pid: old, Reason: reason, Action: ActionNotRestarted})
		}
		return
	case c.spec.Restart == Transient && normalExit(reason):
		return
	}
	if !s.countRestart(old.Node, lost) {
		s.report(Event{Child: c.spec.ID, Pid: old, Reason: reason, Action: ActionGaveUp})
		s.stop(proc.Shutdown)
	}
	if lost {
		s.lostNodes[old.Node] = time.Now()
	}
	s.restart(c, &Event{Child: c.spec.ID, Pid: old, Reason: reason})
}

// countRestart adds a restart to the intensity count and reports whether
// the supervisor may go on. A lost node counts once per period however
// many children it took.
func (s *supervisor) countRestart(node string, lost bool) bool {
	now := time.Now()
	period := s.o.period()
	if lost {
		if t, ok := s.lostNodes[node]; ok && now.Sub(t) < period {
			return true
		}
	}
	// Oldest first: only a head of expired restarts can go.
	i := 0
	for i < len(s.restarts) && now.Sub(s.restarts[i]) >= period {
		i++
	}
	s.restarts = append(s.restarts[i:], now)
	return len(s.restarts) <= s.o.maxRestarts()
}

// restart restarts c by the strategy; exited describes the exit that
// caused it (nil for a retry).
func (s *supervisor) restart(c *child, exited *Event) {
	var group []*child
	switch s.o.Strategy {
	case OneForAll:
		group = s.terminateFrom(0, c)
	case RestForOne:
		group = s.terminateFrom(s.index(c), c)
	default:
		group = []*child{c}
	}
	for i, g := range group {
		var ev *Event
		if g == c {
			ev = exited
		}
		if !s.restartOne(g, ev) {
			// The others of the group wait for c's retry, as OTP restarts
			// what is left of the group after a failed start.
			for _, rest := range group[i+1:] {
				rest.restarting = true
			}
			return
		}
	}
}

// terminateFrom stops, in reverse order, the children from index i on,
// except c (already dead), and returns those to restart, in order.
// Temporary children are stopped and forgotten, as OTP does.
func (s *supervisor) terminateFrom(i int, c *child) []*child {
	tail := append([]*child(nil), s.children[i:]...)
	for j := len(tail) - 1; j >= 0; j-- {
		if tail[j] != c {
			s.terminate(tail[j])
		}
	}
	group := tail[:0]
	for _, g := range tail {
		if g.spec.Restart == Temporary && g != c {
			s.remove(g)
			continue
		}
		group = append(group, g)
	}
	return group
}

// restartOne starts c again and reports it; on failure it queues a retry
// (counted toward the intensity when it runs) and reports false.
func (s *supervisor) restartOne(c *child, exited *Event) bool {
	prevNode := c.node
	err := s.start(c, true)
	ev := Event{Child: c.spec.ID, NewPid: c.pid}
	if exited != nil {
		ev.Pid, ev.Reason = exited.Pid, exited.Reason
	}
	switch {
	case err != nil:
		ev.Action, ev.Reason = ActionStartFailed, err
		c.restarting = true
		s.report(ev)
		if !s.countRestart("", false) {
			s.report(Event{Child: c.spec.ID, Reason: err, Action: ActionGaveUp})
			s.stop(proc.Shutdown)
		}
		_ = s.p.Send(s.p.Pid(), tryAgain{})
		return false
	case exited == nil && prevNode == c.node && !c.restarting:
		return true // restarted as part of a group: reported with the child that caused it
	case prevNode != "" && prevNode != c.node:
		ev.Action = ActionMoved
	default:
		ev.Action = ActionRestarted
	}
	c.restarting = false
	s.report(ev)
	return true
}

func (s *supervisor) index(c *child) int {
	for i, x := range s.children {
		if x == c {
			return i
		}
	}
	return len(s.children)
}

func (s *supervisor) remove(c *child) {
	if i := s.index(c); i < len(s.children) {
		s.children = append(s.children[:i], s.children[i+1:]...)
	}
}

// start starts c on the first node of its list that is up. A restart
// (fallback) then tries the supervisor's node; a first start fails with
// what each node said, since a child that cannot run where it was told
// is a mistake to show, not to hide.
func (s *supervisor) start(c *child, fallback bool) error {
	var errs []error
	for _, node := range s.candidates(c, fallback) {
		pid, err := c.spec.Start(s.p, node)
		if err == nil {
			c.pid, c.node = pid, node
			s.byPid[pid] = c
			return nil
		}
		if len(c.spec.Nodes) == 0 {
			return err
		}
		errs = append(errs, fmt.Errorf("on %s: %w", node, err))
	}
	if len(errs) == 0 {
		return fmt.Errorf("none of its nodes %v is up", c.spec.Nodes)
	}
	return errors.Join(errs...)
}

// candidates lists where c may start, in order: its nodes that are not
// known to be lost, then (with fallback) the supervisor's node.
func (s *supervisor) candidates(c *child, fallback bool) []string {
	self := s.p.Node().Name()
	if len(c.spec.Nodes) == 0 {
		return []string{self}
	}
	out := make([]string, 0, len(c.spec.Nodes)+1)
	haveSelf := false
	for _, n := range c.spec.Nodes {
		if n != self && s.nodeLost(n) {
			continue
		}
		haveSelf = haveSelf || n == self
		out = append(out, n)
	}
	if fallback && !haveSelf {
		out = append(out, self)
	}
	return out
}

// nodeLost reports whether node went down and has not been seen since:
// with a Cluster until it is connected again, without one for a period.
func (s *supervisor) nodeLost(node string) bool {
	t, ok := s.lostNodes[node]
	if !ok {
		return false
	}
	back := false
	if s.o.Cluster != nil {
		back = s.o.Cluster.Connected(node)
	} else {
		back = time.Since(t) >= s.o.period()
	}
	if back {
		delete(s.lostNodes, node)
	}
	return !back
}

// killOrphans kills the children lost with a node that is connected again:
// cut off rather than dead, they may have lived on, and have been
// replaced.
func (s *supervisor) killOrphans() {
	if s.o.Cluster == nil {
		return
	}
	for node, pids := range s.orphans {
		if !s.o.Cluster.Connected(node) {
			continue
		}
		delete(s.orphans, node)
		for _, pid := range pids {
			_ = s.p.SendExit(pid, proc.Kill)
		}
	}
}

// terminateAll stops every child, in reverse start order.
func (s *supervisor) terminateAll() {
	for i := len(s.children) - 1; i >= 0; i-- {
		s.terminate(s.children[i])
	}
}

// terminate stops one child as OTP's shutdown/2 does: monitor, unlink,
// exit(shutdown), wait up to the shutdown time, then kill.
func (s *supervisor) terminate(c *child) {
	pid := c.pid
	c.restarting = false
	if pid.IsZero() {
		return
	}
	delete(s.byPid, pid)
	c.pid = proc.Pid{}
	p := s.p
	ref := p.Monitor(pid)
	_ = p.Unlink(pid)
	// An exit that came before the unlink is in the mailbox: the child is
	// dead already and its DOWN follows.
	_, _ = p.ReceiveMatchTimeout(0, func(m any) bool {
		e, ok := m.(proc.ExitMsg)
		return ok && e.From == pid
	})
	d := c.spec.shutdown()
	if d == BrutalKill {
		_ = p.SendExit(pid, proc.Kill)
		s.awaitDown(ref, Infinity)
		return
	}
	_ = p.SendExit(pid, proc.Shutdown)
	if !s.awaitDown(ref, d) {
		_ = p.SendExit(pid, proc.Kill)
		s.awaitDown(ref, Infinity)
	}
}

// awaitDown waits up to d for the DOWN of monitor ref.
func (s *supervisor) awaitDown(ref proc.Ref, d time.Duration) bool {
	_, err := s.p.ReceiveMatchTimeout(d, func(m any) bool {
		dm, ok := m.(proc.DownMsg)
		return ok && dm.Ref == ref
	})
	return err == nil
}
