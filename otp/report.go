package otp

import (
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/gonode/gonode/proc"
)

// Action says what a supervisor did about a child.
type Action string

const (
	ActionRestarted    Action = "restarted"     // started again on the same node
	ActionMoved        Action = "moved"         // started again on another node (its node went down)
	ActionNotRestarted Action = "not restarted" // a temporary child that crashed
	ActionStartFailed  Action = "start failed"  // a restart failed; it is retried
	ActionGaveUp       Action = "gave up"       // more restarts than the intensity allows: the supervisor stops
)

// Event is one entry of a supervisor's restart history, and the report a
// supervisor makes of it.
type Event struct {
	Time       time.Time
	Supervisor proc.Pid
	Child      string   // the child's id
	Pid        proc.Pid // the child that exited (zero for a retry)
	NewPid     proc.Pid // its replacement (zero if none)
	Reason     any      // why it exited, or why the start failed
	Action     Action
}

// String is the one-line report printed for the event.
func (e Event) String() string {
	child := fmt.Sprintf("child %q", e.Child)
	if e.Child == "" {
		child = "child"
	}
	why := ""
	if !e.Pid.IsZero() {
		why = fmt.Sprintf("%v exited with %s", e.Pid, proc.FormatReason(e.Reason))
	}
	switch e.Action {
	case ActionRestarted:
		if why == "" {
			return fmt.Sprintf("supervisor %v restarted %s as %v", e.Supervisor, child, e.NewPid)
		}
		return fmt.Sprintf("supervisor %v restarted %s: %s; now %v", e.Supervisor, child, why, e.NewPid)
	case ActionMoved:
		return fmt.Sprintf("supervisor %v moved %s from %s to %s: %s; now %v",
			e.Supervisor, child, e.Pid.Node, e.NewPid.Node, why, e.NewPid)
	case ActionNotRestarted:
		return fmt.Sprintf("supervisor %v: %s %s; temporary, not restarted", e.Supervisor, child, why)
	case ActionStartFailed:
		return fmt.Sprintf("supervisor %v could not start %s: %s; retrying", e.Supervisor, child, proc.FormatReason(e.Reason))
	case ActionGaveUp:
		return fmt.Sprintf("supervisor %v reached its maximum restart intensity (%s: %s); shutting down",
			e.Supervisor, child, proc.FormatReason(e.Reason))
	}
	return fmt.Sprintf("supervisor %v: %s %s", e.Supervisor, child, e.Action)
}

var reporters sync.Map // *proc.Node -> func(Event)

// SetReporter sets where the supervisors of node n report what they do
// when their options name no Report function. nil restores the default,
// the standard logger.
func SetReporter(n *proc.Node, f func(Event)) {
	if f == nil {
		reporters.Delete(n)
		return
	}
	reporters.Store(n, f)
}

func (s *supervisor) report(e Event) {
	e.Time = time.Now()
	e.Supervisor = s.p.Pid()
	if len(s.history) == historyLen {
		s.history = append(s.history[:0], s.history[1:]...)
	}
	s.history = append(s.history, e)
	switch f, ok := reporters.Load(s.p.Node()); {
	case s.o.Report != nil:
		s.o.Report(e)
	case ok:
		f.(func(Event))(e)
	default:
		log.Printf("[info] %v", e)
	}
}
