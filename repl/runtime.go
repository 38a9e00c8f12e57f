package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
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

// shellProcess returns the shell's process, replacing it first if it died
// (killed through a link, or exit(reason) typed at the prompt), as iex
// starts a new shell process.
func (rt *Runtime) shellProcess() *proc.Process {
	p, notice, err := rt.replaceShell()
	if err != nil {
		fail("the node has stopped: %w", err)
	}
	if notice != "" {
		fmt.Fprintln(rt.errw, FormatError(notice))
	}
	return p
}

// replaceShell returns the shell's process, starting a new one if it died;
// notice then says what happened to the old one.
func (rt *Runtime) replaceShell() (*proc.Process, exitNotice, error) {
	rt.shellMu.Lock()
	defer rt.shellMu.Unlock()
	return rt.replaceShellLocked()
}

func (rt *Runtime) replaceShellLocked() (*proc.Process, exitNotice, error) {
	old := rt.shellP
	if old != nil && old.Alive() {
		return old, "", nil
	}
	p, err := rt.node.Attach(proc.SpawnOptions{Label: "shell"})
	if err != nil {
		return nil, "", err
	}
	rt.shellP = p
	rt.watchShell(p)
	var notice exitNotice
	if old != nil {
		notice = exitNotice(fmt.Sprintf("the shell process %v exited: %s; new shell process %v",
			old.Pid(), proc.FormatReason(old.Reason()), p.Pid()))
	}
	return p, notice, nil
}

// watchShell replaces the shell's process p as soon as it dies between
// snippets (a linked process crashed while the prompt waits), and says so
// above the prompt at once, as iex does. A death during a snippet is left
// to shellExited, which fails that snippet.
func (rt *Runtime) watchShell(p *proc.Process) {
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		select {
		case <-p.Context().Done():
		case <-rt.ctx.Done():
			return
		}
		rt.shellMu.Lock()
		if rt.shellP != p || rt.snippetOpen.Load() || rt.ctx.Err() != nil {
			rt.shellMu.Unlock()
			return
		}
		_, notice, err := rt.replaceShellLocked()
		rt.shellMu.Unlock()
		if err == nil && notice != "" {
			fmt.Fprintln(rt.async, FormatError(notice))
		}
	}()
}

// snippetStarted marks a snippet as running until shellExited checks it:
// a death of the shell's process meanwhile is that snippet's failure.
func (rt *Runtime) snippetStarted() { rt.snippetOpen.Store(true) }

// shellExited is the shell loop's check after each snippet: if the shell's
// process died during it (an exit signal through a link, such as the
// :noconnection of spawnLink to a node that is down), a new one takes its
// place and the snippet counts as failed, as an Elixir script stops when
// its process gets an exit signal.
func (rt *Runtime) shellExited() error {
	rt.shellMu.Lock()
	defer rt.shellMu.Unlock()
	defer rt.snippetOpen.Store(false)
	old := rt.shellP
	if old == nil || old.Alive() {
		return nil
	}
	_, notice, err := rt.replaceShellLocked()
	if err != nil || notice == "" {
		return err
	}
	return notice
}

// exitNotice says that the shell's process exited and was replaced; it
// prints as "** (EXIT) ...".
type exitNotice string

func (e exitNotice) Error() string { return string(e) }

// shellProc is the Proc the shell interpreter acts as.
func (rt *Runtime) shellProc() *Proc { return &Proc{rt: rt, ctx: rt.shellCtx} }

func (rt *Runtime) shellCtx() context.Context {
	if c := rt.evalCtx.Load(); c != nil {
		return *c
	}
	return rt.ctx
}

// bindWorker points a worker interpreter's __self at its process.
func (rt *Runtime) bindWorker(ctx context.Context, in *eval.Interp, x *Proc) error {
	if in == nil {
		return nil // a host function: it has no interpreter
	}
	return in.Assign("__self", x) // a pooled worker serves one process after another
}

// spawnLocal starts a process running a shipped function in an
// interpreter of its own.
func (rt *Runtime) spawnLocal(parent *Proc, b eval.Bundle, link, monitor bool) (proc.Pid, proc.Ref, error) {
	return parent.proc().SpawnOpt(func(p *proc.Process) {
		rt.runShipped(p, func(ctx context.Context) (*eval.Func, error) { return rt.session.Load(ctx, b, rt.async) }, nil, proc.Pid{})
	}, proc.SpawnOptions{Link: link, Monitor: monitor, Label: "spawned from the shell"})
}

// runShipped loads a function into a fresh interpreter and runs it as the
// process p. A panic ends the process with a PanicReason; an error result
// ends it with the error's text. gl, if not zero, is the group leader of
// a peer's shell that spawned p: a crash report goes there before the
// exit, so that it arrives before the DOWN or EXIT it explains.
func (rt *Runtime) runShipped(p *proc.Process, load func(context.Context) (*eval.Func, error), args []any, gl proc.Pid) {
	ctx := p.Context()
	fn, err := load(ctx)
	if err == nil {
		defer fn.Release()
		err = rt.bindWorker(ctx, fn.Interp(), &Proc{rt: rt, p: p, ctx: p.Context})
	}
	if err == nil {
		var res []any
		res, err = fn.Call(ctx, args...)
		if err == nil {
			_, err = collapse(fn, res)
		}
	}
	if err != nil {
		reason := exitReason(err)
		if _, crashed := reason.(proc.PanicReason); crashed && !gl.IsZero() && !p.Supervised() {
			name := ""
			if in, ok := rt.node.Info(p.Pid()); ok {
				name = in.Name
			}
			text := crashText(proc.CrashReport{Pid: p.Pid(), Name: name, Reason: reason})
			_, _ = io.WriteString(&groupLeaderWriter{node: rt.node, gl: gl, tag: reportTag}, text)
		}
		p.Exit(reason)
	}
}

// exitReason turns what a shipped function failed with into an exit
// reason that crosses nodes intact.
func exitReason(err error) any {
	var pe *eval.PanicError
	if errors.As(err, &pe) {
		var se shellError
		if e, ok := pe.Value.(error); ok && errors.As(e, &se) {
			// A failing helper ends the process with the atom Erlang's
			// would, so that a monitor or a trapped link can match it:
			// link to a dead pid gives :noproc, send to a name not
			// registered gives :badarg. Erlang's reason is {Atom,
			// Stacktrace}; the atom alone is kept, having no Erlang
			// stack to give. Other helper failures keep their text.
			switch {
			case errors.Is(se, proc.ErrNotRegistered):
				return proc.Atom("badarg")
			case errors.Is(se, proc.ErrNoProc):
				return proc.NoProc
			}
			return se.Error()
		}
		v := pe.Value
		switch v.(type) {
		case string, proc.Atom, int, int64, float64:
		default:
			v = fmt.Sprint(v)
		}
		return proc.PanicReason{Value: v, Stack: string(pe.Stack)}
	}
	return err.Error()
}

// collapse turns a function's results into one value or error: a trailing
// non-nil error is the error; one other result is the value; several are
// a []any.
func collapse(fn *eval.Func, res []any) (any, error) {
	t := fn.Type()
	if t != nil && t.Kind() == reflect.Func && t.NumOut() > 0 && t.Out(t.NumOut()-1) == reflect.TypeFor[error]() && len(res) > 0 {
		if err, _ := res[len(res)-1].(error); err != nil {
			return nil, err
		}
		res = res[:len(res)-1]
	}
	switch len(res) {
	case 0:
		return nil, nil
	case 1:
		return res[0], nil
	}
	return res, nil
}

// helperCalls are the shell helpers a peer may call by their shell name
// as well (rpc(n, "nodeName"), as :rpc.call(n, Node, :self, [])): each is
// the node-level function of the same name. A function declared in the
// shell under that name wins.
var helperCalls = map[string]string{
	"nodeName": "node.NodeName", "list": "node.List", "ping": "node.Ping", "processes": "node.Processes",
}

// sessionFuncs lets peers call the functions declared in the shell, and
// standard library functions, by name (rpc, async, multicall). Each call
// runs in a fresh interpreter holding the latest definitions, as a process
// of its own (erpc runs calls in a new process too).
type sessionFuncs struct{ rt *Runtime }

func (f sessionFuncs) Resolve(name string) (dist.Callable, bool) {
	rt := f.rt
	if alias, ok := helperCalls[name]; ok && !rt.session.HasFunc(name) {
		name = alias
	}
	if !rt.session.HasFunc(name) {
		return nil, false
	}
	return func(ctx context.Context, args []any) (any, error) {
		return rt.runCall(ctx, "rpc "+name, func(ctx context.Context) (*eval.Func, error) {
			return rt.session.ResolveTo(ctx, name, rt.callOutput(ctx))
		}, args)
	}, true
}

// sessionSources runs function literals that a peer's shell spawns here.
type sessionSources struct{ rt *Runtime }

func (s sessionSources) Compile(source string) (dist.Callable, error) {
	rt := s.rt
	rt.preloadTypes(source) // typed.go
	return func(ctx context.Context, args []any) (any, error) {
		p, gl, ok := dist.ProcessFrom(ctx)
		if !ok {
			return rt.callLiteral(ctx, source, args) // async(node, func() T {...}) (async_literal.go)
		}
		var w io.Writer = rt.async
		if !gl.IsZero() {
			w = &groupLeaderWriter{node: rt.node, gl: gl}
		}
		rt.runShipped(p, func(ctx context.Context) (*eval.Func, error) { return rt.session.Compile(ctx, source, w) }, args, gl)
		return nil, nil
	}, nil
}

// outputTag marks the messages that carry a remote process's output to the
// group leader of the node that spawned it: [outputTag, node, text].
// reportTag marks its crash report, which the group leader prints where
// reports go (stderr in scripts): [reportTag, node, text].
const (
	outputTag = proc.Atom("gonode_output")
	reportTag = proc.Atom("gonode_report")
)

// withOutput makes the calls made under ctx carry this shell's group
// leader, so that what the called function prints comes out here, as with
// erpc (dist.WithGroupLeader).
func (rt *Runtime) withOutput(ctx context.Context) context.Context {
	if rt.groupLeader.IsZero() {
		return ctx
	}
	return dist.WithGroupLeader(ctx, rt.groupLeader)
}

// callOutput is where a call from a peer prints: the caller's group
// leader when the call brought one (see withOutput), else nil (this
// node's own output).
func (rt *Runtime) callOutput(ctx context.Context) io.Writer {
	if gl, ok := dist.GroupLeader(ctx); ok && gl != rt.groupLeader {
		return &groupLeaderWriter{node: rt.node, gl: gl}
	}
	return nil
}

// groupLeaderWriter sends what a process writes to its group leader on
// the spawning node, as Erlang's group leader does.
type groupLeaderWriter struct {
	node *proc.Node
	gl   proc.Pid
	tag  proc.Atom // outputTag if zero
}

func (w *groupLeaderWriter) Write(b []byte) (int, error) {
	tag := w.tag
	if tag == "" {
		tag = outputTag
	}
	_ = w.node.Send(w.gl, []any{tag, w.node.Name(), string(b)})
	return len(b), nil
}

// printOutput is the group leader: it prints the output and crash reports
// of processes spawned from this shell on other nodes, each line marked
// with the node.
func (rt *Runtime) printOutput(_ *proc.Process, msg any) {
	if f, ok := msg.(outputFlush); ok {
		close(f)
		return
	}
	m, ok := msg.([]any)
	if !ok || len(m) != 3 || m[0] != outputTag && m[0] != reportTag {
		return
	}
	node, _ := m[1].(string)
	text, _ := m[2].(string)
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if line != "" {
			b.WriteString("[" + node + "] " + line)
		}
	}
	if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	w := rt.async
	if m[0] == reportTag {
		w = &rt.reports
	}
	io.WriteString(w, b.String())
}

// outputFlush is the message flushOutput sends the group leader: closed
// once what came before it has been printed.
type outputFlush chan struct{}

// flushOutput waits (a second at most) until the group leader has printed
// the remote output already in its mailbox, so that a node that stops right
// after a remote process ended (its DOWN came after its output) still
// prints that process's last lines.
func (rt *Runtime) flushOutput() {
	deadline := time.NewTimer(time.Second)
	defer deadline.Stop()
	// The notices too: a node up that connect() caused prints before its
	// true.
	for _, pid := range []proc.Pid{rt.groupLeader, rt.noticer} {
		done := make(outputFlush)
		if pid.IsZero() || rt.node.Send(pid, done) != nil {
			continue
		}
		select {
		case <-done:
		case <-deadline.C:
			return
		}
	}
}

// printNotice prints node up and down notices when they are turned on.
func (rt *Runtime) printNotice(_ *proc.Process, msg any) {
	if f, ok := msg.(outputFlush); ok {
		close(f)
		return
	}
	if !rt.notices.Load() {
		return
	}
	switch m := msg.(type) {
	case dist.NodeUp:
		fmt.Fprintf(rt.async, "** node %s up\n", m.Node)
	case dist.NodeDown:
		fmt.Fprintf(rt.async, "** node %s down: %s\n", m.Node, m.Reason)
	}
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

// callContext returns a context that ends with ctx or with the death of
// p, the process a call runs as: an rpc's process killed by exit(pid,
// :kill) cancels the interpreter running the call, which stops at once
// (yaegi checks at every step, so a busy loop stops too). stop releases it.
func callContext(ctx context.Context, p *proc.Process) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(p.Context(), cancel)
	return ctx, func() { unhook(); cancel() }
}
