package otp

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
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

// StreamOptions set how TaskStream runs its items. The zero value is
// Elixir's defaults for async_stream, but for OnTimeout.
type StreamOptions struct {
	// MaxConcurrency bounds the items running at once (task processes
	// alive). 0 means runtime.NumCPU(), as Elixir's default is
	// System.schedulers_online().
	MaxConcurrency int
	// Timeout bounds each item, from its start. 0 means 5 s, Elixir's
	// default.
	Timeout time.Duration
	// Unordered gives results as items finish. By default (false) they
	// come in the order of the items, as Elixir's ordered: true, which
	// holds back a finished item until all before it have finished.
	Unordered bool
	// OnTimeout says what an item past its timeout does to the stream.
	OnTimeout StreamOnTimeout

	// Nodes, when set, runs the items on other nodes instead of calling
	// fn: item i calls the function registered as Fn on
	// Nodes[i%len(Nodes)], with the item as first argument followed by
	// Args, through Caller; each call is made by a local task process,
	// killed (its call cancelled) on timeout. Elixir has no such option:
	// it is async_stream spread round-robin over one remote
	// Task.Supervisor per node.
	Nodes  []string
	Caller Caller
	Fn     string
	Args   []any
}

// StreamOnTimeout says what TaskStream does with an item that runs past
// its timeout.
type StreamOnTimeout uint8

const (
	// StreamKillTask kills the item's task and gives it a result whose Err
	// wraps proc.ErrTimeout; the others go on (Elixir's on_timeout:
	// :kill_task). It is the default, where Elixir's is :exit, because
	// Go code gets errors as values.
	StreamKillTask StreamOnTimeout = iota
	// StreamStop ends the whole stream at the first item past its
	// timeout, as Elixir's on_timeout: :exit ends the caller: every task
	// still running is killed, no other item starts, and the results end
	// with the timed-out item's.
	StreamStop
)

// StreamResult is the outcome of one item of TaskStream: fn's value and
// error, or as Err a *proc.ExitError for an item whose task died (a
// proc.PanicReason for a panic: Elixir's {:exit, reason}), an error
// wrapping proc.ErrTimeout for an item past its timeout (Elixir's {:exit,
// :timeout}).
type StreamResult struct {
	Item  any
	Value any
	Err   error
}

// TaskStream runs fn on every item, each in a task process of its own, at
// most o.MaxConcurrency at a time, and returns the results (Elixir's
// Task.Supervisor.async_stream_nolink, run to the end). p is the calling
// process, which owns the tasks and receives their results: TaskStream
// runs on its goroutine.
//
// Tasks are not linked to p, so that an item that panics gives an error
// result instead of killing the caller. They are bounded by it still: if
// p dies, TaskStream kills the tasks it is running, where Elixir 1.14
// lets nolink stream tasks run to their end (checked: "task DOWN
// :normal" after the caller was killed).
func TaskStream(p *proc.Process, items []any, fn func(ctx context.Context, item any) (any, error), o StreamOptions) []StreamResult {
	out := make([]StreamResult, 0, len(items))
	for r := range TaskStreamSeq(p, items, fn, o) {
		out = append(out, r)
	}
	return out
}

// TaskStreamSeq is TaskStream as an iterator, lazy as Elixir's streams
// are: items start as the loop consumes results, and breaking out of the
// loop kills the tasks still running. It must be ranged over on p's
// goroutine.
func TaskStreamSeq(p *proc.Process, items []any, fn func(ctx context.Context, item any) (any, error), o StreamOptions) iter.Seq[StreamResult] {
	return func(yield func(StreamResult) bool) {
		s := newStream(p, items, fn, o)
		defer s.cleanup()
		s.run(yield)
	}
}

// streamTask is one item running in a task process.
type streamTask struct {
	index    int
	pid      proc.Pid
	mon      proc.Ref
	start    time.Time
	got      bool // its outcome came; its DOWN frees the slot
	timedOut bool // killed past its timeout
	outcome  taskOutcome
}

type stream struct {
	p     *proc.Process
	items []any
	fn    func(ctx context.Context, item any) (any, error)
	o     StreamOptions
	bad   error // set when the options cannot run: every item gets it

	running map[proc.Ref]*streamTask // by monitor
	queue   []*streamTask            // running items in start order: the head's deadline is the earliest
	next    int                      // next item to start
	pending map[int]StreamResult     // ordered: finished, waiting for an earlier item
	emitted int                      // ordered: items given so far
	stopAt  int                      // StreamStop: the item whose result is the last given, or -1
}

func newStream(p *proc.Process, items []any, fn func(ctx context.Context, item any) (any, error), o StreamOptions) *stream {
	if o.MaxConcurrency <= 0 {
		o.MaxConcurrency = runtime.NumCPU()
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	s := &stream{p: p, items: items, fn: fn, o: o, running: make(map[proc.Ref]*streamTask, o.MaxConcurrency), stopAt: -1}
	if !o.Unordered {
		s.pending = make(map[int]StreamResult)
	}
	switch {
	case len(o.Nodes) > 0 && (o.Caller == nil || o.Fn == ""):
		s.bad = errors.New("otp: StreamOptions.Nodes needs a Caller and an Fn")
	case len(o.Nodes) == 0 && fn == nil:
		s.bad = errors.New("otp: TaskStream needs a function, or Nodes to call")
	}
	return s
}

// run starts items while there is room, and gives results as they come,
// until all are given or yield says stop.
func (s *stream) run(yield func(StreamResult) bool) {
	p := s.p
	for {
		for len(s.running) < s.o.MaxConcurrency && s.next < len(s.items) {
			if r, failed := s.startNext(); failed && !s.give(r, yield) {
				return
			}
		}
		if len(s.running) == 0 {
			return // every item started has been given
		}
		// Kill the items past their timeout, oldest first; their DOWNs
		// are in the mailbox when SendExit returns.
		head := s.head()
		for head != nil && time.Since(head.start) >= s.o.Timeout {
			head.timedOut = true
			_ = p.SendExit(head.pid, proc.Kill)
			head = s.head()
		}
		var m any
		var err error
		if head == nil {
			// Every running item has answered or been killed: only
			// their DOWNs are to come, with no deadline.
			m, err = p.ReceiveMatch(nil, s.match)
		} else {
			m, err = p.ReceiveMatchTimeout(s.o.Timeout-time.Since(head.start), s.match)
			if err == proc.ErrTimeout {
				continue
			}
		}
		if err != nil {
			// The caller cannot receive: it is dead (attached), or a
			// handler-style process. The items not given fail with why.
			s.failRest(err, yield)
			return
		}
		switch m := m.(type) {
		case proc.CallReply:
			t := s.running[m.Ref]
			t.got, t.outcome = true, m.Reply.(taskOutcome)
		case proc.DownMsg:
			t := s.running[m.Ref]
			delete(s.running, m.Ref)
			r := StreamResult{Item: s.items[t.index], Value: t.outcome.value, Err: t.outcome.err}
			switch {
			case t.got:
			case t.timedOut:
				r.Err = fmt.Errorf("task stream item %d: %w after %v", t.index, proc.ErrTimeout, s.o.Timeout)
			default:
				r.Err = &proc.ExitError{Pid: m.Pid, Reason: m.Reason}
			}
			stop := t.timedOut && !t.got && s.o.OnTimeout == StreamStop
			if stop {
				s.stopAt = t.index
			}
			if !s.giveAt(t.index, r, yield) || stop {
				return
			}
		}
	}
}

// failRest gives every item not given yet a result with err: those
// running (killed by cleanup) and those not started.
func (s *stream) failRest(err error, yield func(StreamResult) bool) {
	var idx []int
	for _, t := range s.running {
		idx = append(idx, t.index)
	}
	slices.Sort(idx)
	for i := s.next; i < len(s.items); i++ {
		idx = append(idx, i)
	}
	s.next = len(s.items)
	for _, i := range idx {
		if !s.giveAt(i, StreamResult{Item: s.items[i], Err: err}, yield) {
			return
		}
	}
}

// head returns the oldest running item not already killed, dropping
// finished ones off the queue.
func (s *stream) head() *streamTask {
	for len(s.queue) > 0 {
		t := s.queue[0]
		if _, running := s.running[t.mon]; running && !t.timedOut && !t.got {
			return t
		}
		s.queue[0] = nil
		s.queue = s.queue[1:]
	}
	return nil
}

func (s *stream) match(m any) bool {
	switch m := m.(type) {
	case proc.CallReply:
		_, ok := s.running[m.Ref]
		return ok
	case proc.DownMsg:
		_, ok := s.running[m.Ref]
		return ok
	}
	return false
}

// startNext starts the next item; if it cannot start, it returns that
// item's result, with failed set.
func (s *stream) startNext() (r StreamResult, failed bool) {
	i := s.next
	s.next++
	item := s.items[i]
	if s.bad != nil {
		return StreamResult{Item: item, Err: s.bad}, true
	}
	var fn func(ctx context.Context) (any, error)
	if len(s.o.Nodes) > 0 {
		c, node, name := s.o.Caller, s.o.Nodes[i%len(s.o.Nodes)], s.o.Fn
		args := append([]any{item}, s.o.Args...)
		fn = func(ctx context.Context) (any, error) { return c.RPC(ctx, node, name, args...) }
	} else {
		f := s.fn
		fn = func(ctx context.Context) (any, error) { return f(ctx, item) }
	}
	pid, mon, err := taskStart(s.p, fn, false, "task stream")
	if err != nil {
		return StreamResult{Item: item, Err: fmt.Errorf("otp: start task: %w", err)}, true
	}
	t := &streamTask{index: i, pid: pid, mon: mon, start: time.Now()}
	s.running[mon] = t
	s.queue = append(s.queue, t)
	return StreamResult{}, false
}

// give hands on the result of the item just started and failed.
func (s *stream) give(r StreamResult, yield func(StreamResult) bool) bool {
	return s.giveAt(s.next-1, r, yield)
}

// giveAt hands on the result of item i: at once when unordered, else with
// those after it that were waiting for it.
func (s *stream) giveAt(i int, r StreamResult, yield func(StreamResult) bool) bool {
	if s.o.Unordered {
		return yield(r)
	}
	s.pending[i] = r
	for {
		r, ok := s.pending[s.emitted]
		if !ok {
			return true
		}
		delete(s.pending, s.emitted)
		s.emitted++
		// Items after the one that stopped the stream are not given, even
		// if they have finished: the results end with the timeout.
		if !yield(r) || s.emitted-1 == s.stopAt {
			return false
		}
	}
}

// cleanup kills the tasks still running when the stream ends early (the
// loop broke off, a timeout stopped it, the caller died or panicked), and
// drops what they left in the caller's mailbox.
func (s *stream) cleanup() {
	if len(s.running) == 0 {
		return
	}
	n := s.p.Node()
	for _, t := range s.running {
		_ = n.Exit(t.pid, proc.Kill) // from the node: the caller may be dying
	}
	if !s.p.Alive() {
		return // its mailbox and monitors went with it
	}
	for _, t := range s.running {
		s.p.Demonitor(t.mon, true)
	}
	// No result can come in now that the monitors are gone; take out
	// those that came before.
	for {
		if _, err := s.p.ReceiveMatchTimeout(0, s.match); err != nil {
			break
		}
	}
	clear(s.running)
}
