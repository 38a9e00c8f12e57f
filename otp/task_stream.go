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
