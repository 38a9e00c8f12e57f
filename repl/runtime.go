package repl

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonode/gonode/discovery"
	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
)

// Runtime joins a node to a shell session: it owns the node, the session,
// the shell's process, the group leader that prints what remote processes
// write, and the goroutines of async tasks.
type Runtime struct {
	node    *proc.Node
	dist    *dist.Node // nil when the node is not distributed
	session *eval.Session
	remote  *RemoteShells    // the remote shells attached to this node (--remsh); nil if not distributed
	cluster *clusterServices // global names, groups, placement; nil if not distributed (a remote session's: its node's)
	// discovery finds nodes and connects to them (--discover, --join);
	// nil if not asked for.
	discovery *discovery.Discovery
	// web is the node's web view (web_api.go); nil in a remote shell
	// session, whose node's own runtime owns it.
	web *webState
	// tracing is trace()'s state: the node's tracer if this runtime owns
	// it, the traces this shell started (trace.go).
	tracing tracing

	out   io.Writer // results
	errw  io.Writer // errors
	async io.Writer // what processes print, notices: above the prompt

	shellMu     sync.Mutex
	shellP      *proc.Process                   // guarded by shellMu: the shell's current process
	evalCtx     atomic.Pointer[context.Context] // the running snippet's context
	inSnippet   atomic.Bool                     // a snippet runs: what interpreted code prints is its own output
	snippetOpen atomic.Bool                     // a snippet runs or waits for shellExited (watchShell)
	groupLeader proc.Pid
	noticer     proc.Pid // the process printing node up/down notices (printNotice), if any
	notices     atomic.Bool
	reports     swapWriter // crash and supervisor reports: stderr, or above the prompt

	histMu  sync.Mutex
	history []any // guarded by histMu: results of earlier inputs, v(n)

	ctx      context.Context // the runtime's life
	cancel   context.CancelFunc
	wg       sync.WaitGroup // async tasks
	quitOnce sync.Once
	quit     chan struct{} // closed by halt

	startupOnce sync.Once
	startup     chan struct{} // closed once the startup input (script, -e, piped) is evaluated, or the prompt shows
}

// startupDone marks the startup input as evaluated: node.AwaitStartup,
// which a peer's waitFor calls, returns true from now on.
func (rt *Runtime) startupDone() { rt.startupOnce.Do(func() { close(rt.startup) }) }

// awaitStartup waits at most ms milliseconds for the startup input to be
// evaluated, and says whether it was. A peer's waitFor calls it, so that
// a script's rpc does not run before the functions it calls are declared.
func (rt *Runtime) awaitStartup(ms int64) bool {
	t := time.NewTimer(time.Duration(max(ms, 0)) * time.Millisecond)
	defer t.Stop()
	select {
	case <-rt.startup:
		return true
	default:
	}
	select {
	case <-rt.startup:
		return true
	case <-t.C:
	case <-rt.ctx.Done():
	}
	return false
}

// startTask runs an rpc on a goroutine owned by the runtime. A trailing
// timeout(d) in args bounds it; it is cancelled when owner (if not nil)
// ends.
func (rt *Runtime) startTask(d *dist.Node, owner context.Context, node, fn string, args []any) *Task {
	return rt.startCall(owner, node, fn, args, func(ctx context.Context, args []any) (any, error) {
		return d.RPC(ctx, node, fn, args...)
	})
}

// startCall runs call in a task: with the timeout of within(d) among args,
// cancelled with owner, what it prints coming out here.
func (rt *Runtime) startCall(owner context.Context, node, what string, args []any, call func(context.Context, []any) (any, error)) *Task {
	ctx, args, cancel := withTimeout(rt.ctx, args)
	t := &Task{Node: node, Fn: what, done: make(chan struct{}), cancel: cancel}
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		defer cancel()
		if owner != nil {
			defer context.AfterFunc(owner, cancel)()
		}
		t.value, t.err = call(rt.withOutput(ctx), args)
		close(t.done)
	}()
	return t
}

// record keeps a shown result for v(n).
func (rt *Runtime) record(res eval.Result) {
	if !res.Show {
		return
	}
	var v any
	switch len(res.Values) {
	case 0:
	case 1:
		v = res.Values[0]
	default:
		v = res.Values
	}
	rt.histMu.Lock()
	rt.history = append(rt.history, v)
	rt.histMu.Unlock()
}

func (rt *Runtime) result(n ...int) (any, error) {
	rt.histMu.Lock()
	defer rt.histMu.Unlock()
	i := len(rt.history)
	if len(n) > 0 {
		switch {
		case n[0] < 0:
			i = len(rt.history) + n[0] + 1
		default:
			i = n[0]
		}
	}
	if i < 1 || i > len(rt.history) {
		return nil, fmt.Errorf("no result %d (there are %d)", i, len(rt.history))
	}
	return rt.history[i-1], nil
}

// halt asks the shell to stop the node and exit.
func (rt *Runtime) halt() {
	rt.quitOnce.Do(func() { close(rt.quit) })
}
