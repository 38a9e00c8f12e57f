package otp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/proc"
)

// Task is a function run in a process of its own, whose result the process
// that started it (the owner) collects, as Elixir's Task. The owner
// monitors the task for its whole life, so that a task that dies before
// answering is an error rather than a wait; the linked form (TaskAsync)
// also ties their lives together.
//
// A Task's methods are called by its owner only, from the owner's
// goroutine, since they receive from its mailbox.
type Task struct {
	owner  *proc.Process
	pid    proc.Pid
	mon    proc.Ref // the owner's monitor on the task; the result is tagged with it
	linked bool

	done  bool // the outcome below is final
	value any
	err   error
}

// taskOutcome is what a task's function returned. It travels as the Reply
// of a proc.CallReply whose Ref is the owner's monitor on the task: proc
// lets such a reply into the owner's mailbox only while the monitor is
// held, so a result that comes after the owner gave up on the task (it
// timed out, shut it down, or left a stream) is dropped at delivery, as
// Elixir 1.14's tasks reply to a monitor alias that demonitor deactivates.
type taskOutcome struct {
	value any
	err   error
}

// Caller runs a function registered by name on another node and returns
// its result: the distribution layer's *dist.Node is one. It lets tasks
// reach other nodes without this package knowing of the network.
type Caller interface {
	RPC(ctx context.Context, node, fn string, args ...any) (any, error)
}

// ErrTaskShutdown is what Await returns for a task that Shutdown stopped
// before it had a result.
var ErrTaskShutdown = errors.New("otp: task was shut down")

// TaskAsync runs fn in a new process linked to p and monitored by it, as
// Task.async: collect the result with Await or Yield, from p. fn's ctx is
// cancelled when the task dies (when it is killed on timeout, shut down,
// or dies with p).
//
// An error returned by fn is a result, which Await returns: the task ends
// normally. A panic in fn is a crash, as a raise in an Elixir task: the
// task dies with a proc.PanicReason and, through the link, so does p
// unless it traps exits. Trapping, p gets the task's proc.ExitMsg and
// Await returns a *proc.ExitError (Elixir: the awaiting caller exits with
// the reason and the EXIT message is in its mailbox). As in Elixir, a
// trapping owner also gets an ExitMsg with reason normal from every linked
// task that ends well.
func TaskAsync(p *proc.Process, fn func(ctx context.Context) (any, error)) *Task {
	return taskSpawn(p, fn, true)
}

// TaskAsyncNoLink runs fn in a new process monitored by p but not linked
// to it (Task.Supervisor.async_nolink): a panic in fn does not reach p,
// and is what Await returns, as a *proc.ExitError carrying the
// proc.PanicReason. As in Elixir, the task goes on running if p dies.
func TaskAsyncNoLink(p *proc.Process, fn func(ctx context.Context) (any, error)) *Task {
	return taskSpawn(p, fn, false)
}

// TaskAsyncRemote calls fn registered on node with args through c, in a
// local task process linked to p (Task.Supervisor.async on a remote
// supervisor, or :erpc in a task). The call's ctx is the task's: killing
// the task (Await past its timeout, Shutdown, the death of p) cancels the
// call. An error of the call (node down, remote failure) is the result's
// error.
func TaskAsyncRemote(p *proc.Process, c Caller, node, fn string, args ...any) *Task {
	return taskSpawn(p, func(ctx context.Context) (any, error) {
		return c.RPC(ctx, node, fn, args...)
	}, true)
}

// taskSpawn starts fn as a task of p. A task that cannot start (p is dead,
// the node stopping) is returned already done, with the error.
func taskSpawn(p *proc.Process, fn func(ctx context.Context) (any, error), link bool) *Task {
	t := &Task{owner: p, linked: link}
	pid, mon, err := taskStart(p, fn, link, "task")
	if err != nil {
		t.done, t.err = true, fmt.Errorf("otp: start task: %w", err)
		return t
	}
	t.pid, t.mon = pid, mon
	return t
}

// taskStart spawns a task process that runs fn and sends its outcome to
// p, tagged with p's monitor on it.
func taskStart(p *proc.Process, fn func(ctx context.Context) (any, error), link bool, label string) (proc.Pid, proc.Ref, error) {
	owner := p.Pid()
	// The monitor's ref exists only once the spawn returns, and the task
	// may be running by then: it is handed over on a channel that the
	// task reads only after fn, by which time it is nearly always there.
	refc := make(chan proc.Ref, 1)
	pid, mon, err := p.SpawnOpt(func(tp *proc.Process) {
		v, err := fn(tp.Context())
		_ = tp.Send(owner, proc.CallReply{Ref: <-refc, Reply: taskOutcome{v, err}})
	}, proc.SpawnOptions{Link: link, Monitor: true, Label: label})
	if err != nil {
		return proc.Pid{}, proc.Ref{}, err
	}
	refc <- mon
	return pid, mon, nil
}

// Pid returns the task's process (zero if it could not start).
func (t *Task) Pid() proc.Pid { return t.pid }

// match selects the task's result and its DOWN in the owner's mailbox.
func (t *Task) match(m any) bool {
	switch m := m.(type) {
	case proc.CallReply:
		return m.Ref == t.mon
	case proc.DownMsg:
		return m.Ref == t.mon
	}
	return false
}

// take records the outcome carried by m, the task's result or DOWN.
func (t *Task) take(m any) {
	t.done = true
	switch m := m.(type) {
	case proc.CallReply:
		o := m.Reply.(taskOutcome)
		t.value, t.err = o.value, o.err
		t.owner.Demonitor(t.mon, true) // and drop its DOWN, as Task.await does
	case proc.DownMsg:
		t.err = &proc.ExitError{Pid: m.Pid, Reason: m.Reason}
	}
}

// Await waits at most timeout for the task's result and returns it (Task.await).
// A task that died before answering gives a *proc.ExitError with its exit
// reason (a proc.PanicReason for a panic). Past timeout the task is killed
// and Await returns an error wrapping proc.ErrTimeout, where Task.await
// exits the caller (and, through the link, the task): Go code gets an
// error it can handle. Once it has an outcome, Await returns it again on
// every call (a second Task.await would time out).
func (t *Task) Await(timeout time.Duration) (any, error) {
	if t.done {
		return t.value, t.err
	}
	m, err := t.owner.ReceiveMatchTimeout(timeout, t.match)
	switch {
	case err == proc.ErrTimeout:
		res, _, err := t.kill()
		switch {
		case err != nil:
			return nil, err
		case res != nil: // it answered as it was killed: take the answer
			t.take(res)
		default:
			t.done, t.err = true, fmt.Errorf("task %v: %w after %v", t.pid, proc.ErrTimeout, timeout)
		}
	case err != nil:
		return nil, err // the owner is dead (attached)
	default:
		t.take(m)
	}
	return t.value, t.err
}

// Yield waits at most timeout for the task's outcome (Task.yield): done is
// false if there is none yet, and the task goes on running, to be yielded
// or awaited again. A task that died gives done with a *proc.ExitError.
// Timeout 0 only looks.
func (t *Task) Yield(timeout time.Duration) (value any, err error, done bool) {
	if t.done {
		return t.value, t.err, true
	}
	m, rerr := t.owner.ReceiveMatchTimeout(timeout, t.match)
	switch {
	case rerr == proc.ErrTimeout:
		return nil, nil, false
	case rerr != nil:
		return nil, rerr, false
	}
	t.take(m)
	return t.value, t.err, true
}

// Shutdown kills the task at once, unlinked first so that the kill does
// not reach the owner (Task.shutdown(task, :brutal_kill)). If the task had
// already answered, or died, that outcome is returned with done true, as
// Task.shutdown returns {:ok, reply} or {:exit, reason}; else done is
// false, and a later Await returns ErrTaskShutdown.
func (t *Task) Shutdown() (value any, err error, done bool) {
	if t.done {
		return t.value, t.err, true
	}
	res, down, kerr := t.kill()
	switch {
	case kerr != nil:
		return nil, kerr, false
	case res != nil:
		t.take(res)
		return t.value, t.err, true
	case down.Reason != proc.Killed:
		t.take(down)
		return t.value, t.err, true
	}
	t.done, t.err = true, ErrTaskShutdown
	return nil, nil, false
}

// kill ends the task at once and collects what it left: its DOWN, and its
// result if one came before the kill (nil if none). Killing a local
// process is synchronous, so the DOWN is in the mailbox when SendExit
// returns; after it, the monitor is gone and no late result can come in.
func (t *Task) kill() (res any, down proc.DownMsg, err error) {
	o := t.owner
	if t.linked {
		if err := o.Unlink(t.pid); err != nil {
			return nil, down, err
		}
	}
	if err := o.SendExit(t.pid, proc.Kill); err != nil {
		return nil, down, err
	}
	m, err := o.ReceiveMatch(nil, func(m any) bool {
		d, ok := m.(proc.DownMsg)
		return ok && d.Ref == t.mon
	})
	if err != nil {
		return nil, down, err
	}
	down = m.(proc.DownMsg)
	if r, err := o.ReceiveMatchTimeout(0, t.match); err == nil {
		res = r
	}
	return res, down, nil
}
