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
	so := proc.SpawnOptions{TrapExit: true, Name: o.Name, Label: supervisorLabel + o.Strategy.String()}
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
