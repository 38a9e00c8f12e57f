package otp_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// The task tests mirror Elixir 1.14's Task and Task.Supervisor (each test
// names what); they reuse the server tests' helpers (serverNode,
// serverSelf, serverDown, serverRecv) and never sleep.

// taskSpawn runs body in a new goroutine-style process and returns its pid
// and a monitor on it held by p.
func taskSpawn(t *testing.T, p *proc.Process, body proc.Func) (proc.Pid, proc.Ref) {
	t.Helper()
	pid, ref, err := p.SpawnOpt(body, proc.SpawnOptions{Monitor: true})
	if err != nil {
		t.Fatal(err)
	}
	return pid, ref
}

// Task.async + Task.await: the value comes back; an error returned by fn
// is a value too (Elixir's {:error, reason} return), and the task ends
// normally.
func TestTaskAsyncAwait(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	task := otp.TaskAsync(p, func(ctx context.Context) (any, error) { return 42, nil })
	if v, err := task.Await(serverWait); err != nil || v != 42 {
		t.Fatalf("await = %v, %v", v, err)
	}
	if v, err := task.Await(serverWait); err != nil || v != 42 {
		t.Fatalf("second await = %v, %v; want the same outcome", v, err)
	}
	task = otp.TaskAsync(p, func(ctx context.Context) (any, error) { return nil, errBoom })
	ref := p.Monitor(task.Pid())
	if _, err := task.Await(serverWait); err != errBoom {
		t.Fatalf("await = %v, want %v", err, errBoom)
	}
	if d := serverDown(t, p, ref); d.Reason != proc.Normal && d.Reason != proc.NoProc {
		t.Fatalf("task exited with %v", d.Reason)
	}
	if !p.Alive() {
		t.Fatal("owner died of a task's error result")
	}
	if ms := p.Flush(); len(ms) != 0 {
		t.Fatalf("owner's mailbox %v, want empty (the DOWN flushed by await)", ms)
	}
}

// Task.await past its timeout: Elixir exits the caller and so the linked
// task (elixir printed "caller DOWN {:timeout, {Task, :await, [...]}}" and
// "task DOWN {:timeout, ...}"). Here the task is killed, its ctx
// cancelled, and Await returns proc.ErrTimeout; the owner lives.
func TestTaskAwaitTimeoutKillsTask(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	cancelled := make(chan struct{})
	task := otp.TaskAsync(p, func(ctx context.Context) (any, error) {
		<-ctx.Done()
		close(cancelled)
		return nil, ctx.Err()
	})
	ref := p.Monitor(task.Pid())
	if _, err := task.Await(time.Millisecond); !errors.Is(err, proc.ErrTimeout) {
		t.Fatalf("await: %v, want a timeout", err)
	}
	if d := serverDown(t, p, ref); d.Reason != proc.Killed && d.Reason != proc.NoProc {
		t.Fatalf("task exited with %v, want killed", d.Reason)
	}
	serverRecv(t, cancelled)
	if !p.Alive() {
		t.Fatal("the kill of the linked task reached its owner")
	}
	if _, err := task.Await(serverWait); !errors.Is(err, proc.ErrTimeout) {
		t.Fatalf("second await: %v, want the same timeout", err)
	}
}

// Task.yield: nil while the task runs (which goes on), then {:ok, value}
// (elixir printed "yield: nil", "yield: {:ok, :done}").
func TestTaskYield(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	release := make(chan struct{})
	task := otp.TaskAsync(p, func(ctx context.Context) (any, error) {
		<-release
		return "done", nil
	})
	if v, err, done := task.Yield(0); done || v != nil || err != nil {
		t.Fatalf("yield(0) = %v, %v, %v; want not done", v, err, done)
	}
	close(release)
	if v, err, done := task.Yield(serverWait); !done || v != "done" || err != nil {
		t.Fatalf("yield = %v, %v, %v", v, err, done)
	}
	if v, err := task.Await(serverWait); v != "done" || err != nil {
		t.Fatalf("await after yield = %v, %v", v, err)
	}
}

// Task.shutdown(task, :brutal_kill): nil for a task still running, {:ok,
// reply} for one that had answered, {:exit, reason} for one that had died
// (elixir printed "shutdown running: nil", "shutdown finished: {:ok,
// :quick}", "shutdown exited: {:exit, :bye}").
func TestTaskShutdown(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)

	task := otp.TaskAsync(p, func(ctx context.Context) (any, error) {
		<-ctx.Done()
		return nil, nil
	})
	if v, err, done := task.Shutdown(); done || v != nil || err != nil {
		t.Fatalf("shutdown running = %v, %v, %v", v, err, done)
	}
	if !p.Alive() {
		t.Fatal("the kill of the linked task reached its owner")
	}
	if _, err := task.Await(serverWait); !errors.Is(err, otp.ErrTaskShutdown) {
		t.Fatalf("await after shutdown: %v", err)
	}

	task = otp.TaskAsync(p, func(ctx context.Context) (any, error) { return "quick", nil })
	serverDown(t, p, p.Monitor(task.Pid())) // it has answered and ended
	if v, err, done := task.Shutdown(); !done || v != "quick" || err != nil {
		t.Fatalf("shutdown finished = %v, %v, %v", v, err, done)
	}

	bye := proc.Atom("bye")
	task = otp.TaskAsyncNoLink(p, func(ctx context.Context) (any, error) {
		panic(bye)
	})
	serverDown(t, p, p.Monitor(task.Pid()))
	_, err, done := task.Shutdown()
	var ee *proc.ExitError
	if !done || !errors.As(err, &ee) || ee.Reason.(proc.PanicReason).Value != bye {
		t.Fatalf("shutdown exited = %v, %v", err, done)
	}
}

// Task.async whose function raises: the caller dies with the task's
// reason (elixir printed "caller DOWN {%RuntimeError{message: "task
// boom"}, [...]}"). Trapping exits, the caller's await exits with the
// reason and the EXIT message is in its mailbox ("await exit
// {{%RuntimeError...}, {Task, ...}}", "trapper got {:EXIT, #PID<...>,
// ...}"); here Await returns a *proc.ExitError.
func TestTaskLinkedPanicKillsOwner(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	_, ref := taskSpawn(t, p, func(o *proc.Process) {
		task := otp.TaskAsync(o, func(ctx context.Context) (any, error) { panic("task boom") })
		_, _ = task.Await(serverWait)
		o.Exit(proc.Atom("not reached"))
	})
	if d := serverDown(t, p, ref); d.Reason.(proc.PanicReason).Value != "task boom" {
		t.Fatalf("owner exited with %v, want the task's panic", d.Reason)
	}

	p.TrapExit(true)
	task := otp.TaskAsync(p, func(ctx context.Context) (any, error) { panic("task boom") })
	_, err := task.Await(serverWait)
	var ee *proc.ExitError
	if !errors.As(err, &ee) || ee.Reason.(proc.PanicReason).Value != "task boom" {
		t.Fatalf("await: %v, want the task's exit", err)
	}
	m, err := p.ReceiveMatchTimeout(serverWait, func(m any) bool { _, ok := m.(proc.ExitMsg); return ok })
	if err != nil || m.(proc.ExitMsg).From != task.Pid() {
		t.Fatalf("trapping owner got %v, %v; want the task's EXIT", m, err)
	}
}

// Task.Supervisor.async_nolink whose function raises: the caller lives
// and yield gives {:exit, {exception, stacktrace}} (elixir printed
// "yield: {:exit, {%RuntimeError{message: "nolink boom"}, [...]}}"). The
// crash is reported ("Task #PID<...> started from :main terminating").
func TestTaskNoLinkPanic(t *testing.T) {
	n, reports := serverNode(t)
	p := serverSelf(t, n)
	task := otp.TaskAsyncNoLink(p, func(ctx context.Context) (any, error) { panic("nolink boom") })
	_, err := task.Await(serverWait)
	var ee *proc.ExitError
	if !errors.As(err, &ee) || ee.Reason.(proc.PanicReason).Value != "nolink boom" {
		t.Fatalf("await: %v", err)
	}
	if !p.Alive() {
		t.Fatal("owner died of a nolink task")
	}
	if r := serverRecv(t, reports); r.Pid != task.Pid() {
		t.Fatalf("crash report %+v", r)
	}
}

// Task.Supervisor.async_nolink's task outlives its caller (elixir printed
// "owner alive false, task alive true", "task finished after owner
// died"); its result is dropped.
func TestTaskNoLinkOutlivesOwner(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	release := make(chan struct{})
	finished := make(chan struct{})
	tpid := make(chan proc.Pid, 1)
	_, ref := taskSpawn(t, p, func(o *proc.Process) {
		task := otp.TaskAsyncNoLink(o, func(ctx context.Context) (any, error) {
			<-release
			close(finished)
			return nil, nil
		})
		tpid <- task.Pid()
	})
	serverDown(t, p, ref)
	tref := p.Monitor(serverRecv(t, tpid))
	close(release)
	serverRecv(t, finished)
	if d := serverDown(t, p, tref); d.Reason != proc.Normal {
		t.Fatalf("task exited with %v", d.Reason)
	}
}

// fakeCaller is a Caller that answers fn "double" with 2*args[0] plus the
// other args, "block" by waiting for ctx, and records the node of every
// call.
type fakeCaller struct {
	mu        sync.Mutex
	nodes     map[any]string // item -> node
	cancelled chan struct{}
}

func (c *fakeCaller) RPC(ctx context.Context, node, fn string, args ...any) (any, error) {
	c.mu.Lock()
	if c.nodes == nil {
		c.nodes = map[any]string{}
	}
	if len(args) > 0 {
		c.nodes[args[0]] = node
	}
	c.mu.Unlock()
	switch fn {
	case "double":
		sum := 2 * args[0].(int)
		for _, a := range args[1:] {
			sum += a.(int)
		}
		return sum, nil
	case "block":
		<-ctx.Done()
		close(c.cancelled)
		return nil, ctx.Err()
	}
	return nil, fmt.Errorf("undefined function %s on %s", fn, node)
}

// Task.Supervisor.async({sup, node}, m, f, a) and await: the call runs on
// the other node through the Caller; a remote error is the result's
// error; awaiting past the timeout kills the local task, which cancels
// the call.
func TestTaskRemote(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	c := &fakeCaller{cancelled: make(chan struct{})}
	task := otp.TaskAsyncRemote(p, c, "b@localhost", "double", 21)
	if v, err := task.Await(serverWait); err != nil || v != 42 {
		t.Fatalf("await = %v, %v", v, err)
	}
	if c.nodes[21] != "b@localhost" {
		t.Fatalf("called on %q", c.nodes[21])
	}
	task = otp.TaskAsyncRemote(p, c, "b@localhost", "nope")
	if _, err := task.Await(serverWait); err == nil {
		t.Fatal("remote error lost")
	}
	task = otp.TaskAsyncRemote(p, c, "b@localhost", "block")
	if _, err := task.Await(time.Millisecond); !errors.Is(err, proc.ErrTimeout) {
		t.Fatalf("await: %v, want a timeout", err)
	}
	serverRecv(t, c.cancelled)
}

func taskItems(n int) []any {
	items := make([]any, n)
	for i := range items {
		items[i] = i
	}
	return items
}

// Task.async_stream keeps the order of the input by default (ordered:
// true), even when items finish out of order; with ordered: false results
// come as they finish (elixir printed [ok: 10, ok: 100, ok: 300] for
// sleeps of 300, 10, 100).
func TestTaskStreamOrdering(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)

	// Ordered: item 0 finishes after all the others.
	others := make(chan struct{}, 3)
	rs := otp.TaskStream(p, taskItems(4), func(ctx context.Context, item any) (any, error) {
		if item == 0 {
			for range 3 {
				<-others
			}
		} else {
			others <- struct{}{}
		}
		return item.(int) * 10, nil
	}, otp.StreamOptions{MaxConcurrency: 4})
	for i, r := range rs {
		if r.Item != i || r.Value != i*10 || r.Err != nil {
			t.Fatalf("ordered results %+v", rs)
		}
	}

	// Unordered: item 0 is let go only once the three others are out.
	release := make(chan struct{})
	var got []any
	for r := range otp.TaskStreamSeq(p, taskItems(4), func(ctx context.Context, item any) (any, error) {
		if item == 0 {
			<-release
		}
		return item, nil
	}, otp.StreamOptions{MaxConcurrency: 4, Unordered: true}) {
		got = append(got, r.Value)
		if len(got) == 3 {
			close(release)
		}
	}
	if len(got) != 4 || got[3] != 0 {
		t.Fatalf("unordered results %v, want item 0 last", got)
	}
}

// Task.async_stream's max_concurrency: never more items running than the
// limit. The first items wait until the limit is reached, so the test
// also shows that it is reached.
func TestTaskStreamMaxConcurrency(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	for _, limit := range []int{1, 3, 8} {
		var cur, peak atomic.Int64
		rs := otp.TaskStream(p, taskItems(60), func(ctx context.Context, item any) (any, error) {
			c := cur.Add(1)
			defer cur.Add(-1)
			for {
				old := peak.Load()
				if c <= old || peak.CompareAndSwap(old, c) {
					break
				}
			}
			if item.(int) < limit {
				for peak.Load() < int64(limit) { // until all of the first batch run
					runtime.Gosched()
				}
			}
			return item, nil
		}, otp.StreamOptions{MaxConcurrency: limit})
		if len(rs) != 60 {
			t.Fatalf("%d results", len(rs))
		}
		for _, r := range rs {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		if got := peak.Load(); got != int64(limit) {
			t.Fatalf("limit %d: peak concurrency %d", limit, got)
		}
	}

	// The default is runtime.NumCPU(), as System.schedulers_online().
	var cur, peak atomic.Int64
	otp.TaskStream(p, taskItems(40), func(ctx context.Context, item any) (any, error) {
		c := cur.Add(1)
		defer cur.Add(-1)
		for {
			old := peak.Load()
			if c <= old || peak.CompareAndSwap(old, c) {
				break
			}
		}
		return nil, nil
	}, otp.StreamOptions{})
	if got := peak.Load(); got > int64(runtime.NumCPU()) {
		t.Fatalf("default limit: peak %d > NumCPU %d", got, runtime.NumCPU())
	}
}

// Task.Supervisor.async_stream_nolink with on_timeout: :kill_task and a
// raising item (elixir printed [ok: 10, ok: 20, exit: :timeout, exit:
// {%RuntimeError{message: "item boom"}, [...]}, ok: 50, ok: 60]): the
// item past its timeout is killed and gives an error, the raising one
// gives its exit, the others complete and the caller lives.
func TestTaskStreamTimeoutAndPanic(t *testing.T) {
	t.Parallel()
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	cancelled := make(chan struct{})
	rs := otp.TaskStream(p, []any{1, 2, 3, 4, 5, 6}, func(ctx context.Context, item any) (any, error) {
		switch item {
		case 3:
			<-ctx.Done() // never finishes by itself
			close(cancelled)
			return nil, nil
		case 4:
			panic("item boom")
		}
		return item.(int) * 10, nil
	}, otp.StreamOptions{MaxConcurrency: 2, Timeout: time.Second})
	serverRecv(t, cancelled)
	if len(rs) != 6 {
		t.Fatalf("results %+v", rs)
	}
	for i, r := range rs {
		switch r.Item {
		case 3:
			if !errors.Is(r.Err, proc.ErrTimeout) {
				t.Fatalf("item 3: %+v, want a timeout", r)
			}
		case 4:
			var ee *proc.ExitError
			if !errors.As(r.Err, &ee) || ee.Reason.(proc.PanicReason).Value != "item boom" {
				t.Fatalf("item 4: %+v, want its panic", r)
			}
		default:
			if r.Err != nil || r.Value != (i+1)*10 {
				t.Fatalf("item %v: %+v", r.Item, r)
			}
		}
	}
	if !p.Alive() {
		t.Fatal("caller died")
	}
	if ms := p.Flush(); len(ms) != 0 {
		t.Fatalf("caller's mailbox %v, want empty", ms)
	}
}

// on_timeout: :exit (Elixir's default) ends the stream at the first
// timeout: elixir printed "caller DOWN {:timeout, {Task.Supervised,
// :stream, ...}}". Here StreamStop ends the results with the timed-out
// item's and kills the rest; items after it are not given, even if done.
func TestTaskStreamStopOnTimeout(t *testing.T) {
	t.Parallel()
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	for _, unordered := range []bool{false, true} {
		var killed atomic.Int64
		rs := otp.TaskStream(p, taskItems(5), func(ctx context.Context, item any) (any, error) {
			if item == 1 || item == 4 {
				<-ctx.Done()
				killed.Add(1)
			}
			return item, nil
		}, otp.StreamOptions{MaxConcurrency: 2, Timeout: time.Second, OnTimeout: otp.StreamStop, Unordered: unordered})
		last := rs[len(rs)-1]
		if last.Item != 1 || !errors.Is(last.Err, proc.ErrTimeout) {
			t.Fatalf("unordered %v: results %+v, want them to end with item 1's timeout", unordered, rs)
		}
		for _, r := range rs[:len(rs)-1] {
			if r.Err != nil {
				t.Fatalf("unordered %v: results %+v", unordered, rs)
			}
		}
		if !unordered && len(rs) != 2 {
			t.Fatalf("ordered results %+v, want items 0 and 1", rs)
		}
		if ms := p.Flush(); len(ms) != 0 {
			t.Fatalf("caller's mailbox %v, want empty", ms)
		}
	}
}

// Breaking out of the stream (Enum.take on Task.async_stream) kills the
// items still running and leaves nothing in the caller's mailbox.
func TestTaskStreamBreak(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	var cancelled sync.WaitGroup
	cancelled.Add(3)
	for r := range otp.TaskStreamSeq(p, taskItems(10), func(ctx context.Context, item any) (any, error) {
		if item != 0 {
			<-ctx.Done()
			cancelled.Done()
		}
		return item, nil
	}, otp.StreamOptions{MaxConcurrency: 4}) {
		if r.Item != 0 {
			t.Fatalf("first result %+v", r)
		}
		break
	}
	done := make(chan struct{})
	go func() { cancelled.Wait(); close(done) }()
	serverRecv(t, done)
	if ms := p.Flush(); len(ms) != 0 {
		t.Fatalf("caller's mailbox %v, want empty", ms)
	}
}

// A caller that dies mid-stream takes its running items with it, where
// Elixir 1.14 lets async_stream_nolink's tasks run on (elixir printed
// "task DOWN :normal" after the caller was killed, and the linked
// Task.async_stream "task DOWN :boom").
func TestTaskStreamCallerDeathKillsItems(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	var running, cancelled sync.WaitGroup
	running.Add(3)
	cancelled.Add(3)
	owner, ref := taskSpawn(t, p, func(o *proc.Process) {
		otp.TaskStream(o, taskItems(3), func(ctx context.Context, item any) (any, error) {
			running.Done()
			<-ctx.Done()
			cancelled.Done()
			return nil, nil
		}, otp.StreamOptions{MaxConcurrency: 3})
	})
	started := make(chan struct{})
	go func() { running.Wait(); close(started) }()
	serverRecv(t, started)
	_ = p.SendExit(owner, proc.Atom("boom"))
	serverDown(t, p, ref)
	done := make(chan struct{})
	go func() { cancelled.Wait(); close(done) }()
	serverRecv(t, done)
}

// Task.Supervisor.async_stream on remote supervisors, spread round-robin
// over the nodes: item i runs fn(item, args...) on Nodes[i%len(Nodes)].
func TestTaskStreamRemote(t *testing.T) {
	n, _ := serverNode(t)
	p := serverSelf(t, n)
	c := &fakeCaller{}
	nodes := []string{"a@h", "b@h", "c@h"}
	rs := otp.TaskStream(p, taskItems(7), nil, otp.StreamOptions{Nodes: nodes, Caller: c, Fn: "double", Args: []any{1}})
	for i, r := range rs {
		if r.Err != nil || r.Value != 2*i+1 {
			t.Fatalf("results %+v", rs)
		}
		if c.nodes[i] != nodes[i%3] {
			t.Fatalf("item %d ran on %s, want %s", i, c.nodes[i], nodes[i%3])
		}
	}
	rs = otp.TaskStream(p, taskItems(2), nil, otp.StreamOptions{Nodes: nodes})
	if len(rs) != 2 || rs[0].Err == nil || rs[1].Err == nil {
		t.Fatalf("stream without a Caller: %+v", rs)
	}
	if got := otp.TaskStream(p, nil, nil, otp.StreamOptions{}); len(got) != 0 {
		t.Fatalf("empty stream gave %+v", got)
	}
	if !slices.Equal(nodes, []string{"a@h", "b@h", "c@h"}) {
		t.Fatal("nodes changed")
	}
}

// A handler-style process cannot receive, so it cannot collect results:
// every item of its stream fails with proc.ErrNotHandlerStyle, and so
// does Await, rather than results going missing.
func TestTaskStreamFromHandlerProcess(t *testing.T) {
	n, _ := serverNode(t)
	out := make(chan []otp.StreamResult, 1)
	awaited := make(chan error, 1)
	pid, err := n.SpawnHandler(func(h *proc.Process, msg any) {
		if msg != "go" {
			return // results that came before the tasks were killed
		}
		out <- otp.TaskStream(h, taskItems(5), func(ctx context.Context, item any) (any, error) {
			return item, nil
		}, otp.StreamOptions{MaxConcurrency: 2})
		_, err := otp.TaskAsyncNoLink(h, func(ctx context.Context) (any, error) { return nil, nil }).Await(serverWait)
		awaited <- err
	}, proc.SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = n.Send(pid, "go")
	rs := serverRecv(t, out)
	if len(rs) != 5 {
		t.Fatalf("results %+v", rs)
	}
	for i, r := range rs {
		if r.Item != i || !errors.Is(r.Err, proc.ErrNotHandlerStyle) {
			t.Fatalf("results %+v", rs)
		}
	}
	if err := serverRecv(t, awaited); !errors.Is(err, proc.ErrNotHandlerStyle) {
		t.Fatalf("await: %v", err)
	}
}
