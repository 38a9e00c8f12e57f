package repl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
	"github.com/gonode/gonode/repl/format"
)

// Proc is the process an interpreter acts as: the shell's own process, or
// a spawned one. The prelude's helpers call its methods. A failing helper
// panics with a shellError, which ends the snippet (or the process) with
// a clear message. Used by the one goroutine that runs its interpreter.
type Proc struct {
	rt  *Runtime
	p   *proc.Process          // the process; nil for the shell, whose process can be replaced
	ctx func() context.Context // cancelled when the caller should stop waiting: Ctrl-C, or the process's death
}

// proc returns the process the caller acts as.
func (x *Proc) proc() *proc.Process {
	if x.p != nil {
		return x.p
	}
	return x.rt.shellProcess()
}

func (x *Proc) check(err error, what string) {
	if err != nil {
		fail("%s: %w", what, err)
	}
}

func (x *Proc) needDist() *dist.Node {
	if x.rt.dist == nil {
		fail("%w", errNoNode)
	}
	return x.rt.dist
}

// Self returns the process's pid.
func (x *Proc) Self() proc.Pid { return x.proc().Pid() }

// NodeName returns this node's name.
func (x *Proc) NodeName() string { return x.rt.node.Name() }

// Connect connects to a node; false if it cannot be reached or refuses,
// with the reason in a one-line warning on stderr (Erlang's
// net_kernel:connect_node returns false and says nothing). With a timeout
// it tries again until it connects or the time is up: a script can wait
// for a peer that is starting.
func (x *Proc) Connect(name string, timeout ...time.Duration) bool {
	if len(timeout) > 1 {
		fail("connect takes a node, and optionally a timeout")
	}
	if err := x.connect(name, timeout...); err != nil {
		x.warnConnect(name, err)
		return false
	}
	return true
}

// WaitFor connects to a node, trying again until it answers or the
// timeout passes; then it fails the snippet with the reason, so that a
// script stops with exit code 1 instead of going on without the peer.
//
// Once connected it also waits, within the same timeout, until the peer
// has evaluated its startup input (a script, -e, piped input), so that
// the functions its script declares exist when waitFor returns. A peer
// that cannot say (not a gonode node, or its --rpc-allow refuses
// node.AwaitStartup) counts as started.
func (x *Proc) WaitFor(name string, timeout time.Duration) bool {
	start := time.Now()
	if err := x.connect(name, timeout); err != nil {
		fail("waitFor %s: not connected after %v: %s", name, timeout, connectReason(name, err))
	}
	if name == x.rt.node.Name() {
		return true
	}
	left := max(timeout-time.Since(start), 0)
	ctx, cancel := context.WithTimeout(x.ctx(), left+setupGrace)
	defer cancel()
	v, err := x.rt.dist.RPC(ctx, name, "node.AwaitStartup", left.Milliseconds())
	var re *dist.RemoteError
	switch {
	case errors.As(err, &re):
	case err != nil:
		fail("waitFor %s: %w", name, err)
	case v == false:
		fail("waitFor %s: connected, but its startup input (a script) is still running after %v", name, timeout)
	}
	return true
}

// setupGrace is what waitFor gives the peer's answer beyond the timeout.
const setupGrace = 2 * time.Second

// retryConnect is how long connect with a timeout waits between attempts.
const retryConnect = 100 * time.Millisecond

func (x *Proc) connect(name string, timeout ...time.Duration) error {
	d := x.needDist()
	ctx := x.ctx()
	if len(timeout) == 0 {
		err := d.Connect(ctx, name)
		if errors.Is(err, dist.ErrBadNodeName) {
			fail("connect: %w", err)
		}
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout[0])
	defer cancel()
	var last error
	for {
		err := d.Connect(ctx, name)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, dist.ErrBadNodeName):
			fail("connect: %w", err)
		case last == nil || ctx.Err() == nil:
			last = err // an attempt cut short by the timeout says less than the one before
		}
		if permanent(err) {
			return err
		}
		select {
		case <-ctx.Done():
			if x.ctx().Err() != nil {
				fail("connect %s: interrupted", name)
			}
			return last
		case <-time.After(retryConnect):
		}
	}
}

// permanent says whether trying again cannot help: the peer refuses this
// node's cookie or certificate.
func permanent(err error) bool {
	return errors.Is(err, dist.ErrBadCookie) || errors.Is(err, dist.ErrTLSMismatch) ||
		errors.Is(err, dist.ErrTLSCertificate) || errors.Is(err, dist.ErrNotAllowed) ||
		errors.Is(err, dist.ErrClosed)
}

// warnConnect says why connect returned false. A refused cookie is logged
// by the node already; a TLS refusal says it all itself.
func (x *Proc) warnConnect(name string, err error) {
	switch {
	case errors.Is(err, dist.ErrBadCookie):
	case errors.Is(err, dist.ErrTLSMismatch) || errors.Is(err, dist.ErrTLSCertificate):
		fmt.Fprintf(x.rt.errw, "gonode: %v\n", err)
	default:
		fmt.Fprintf(x.rt.errw, "[warning] cannot connect to %s: %s\n", name, connectReason(name, err))
	}
}

var lookupAt = regexp.MustCompile(`looking up "[^"]*" at (\S+?):? `)

// connectReason says in a few words why connecting to name failed: no
// such name on the host's port mapper, no port mapper or no host there,
// a refused cookie, or the error itself.
func connectReason(name string, err error) string {
	alive, host, _ := strings.Cut(name, "@")
	mapper := "the port mapper on " + host
	if m := lookupAt.FindStringSubmatch(err.Error()); m != nil {
		mapper = "the port mapper at " + m[1]
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, epmd.ErrNotRegistered):
		return fmt.Sprintf("no node %q is registered with %s (not started yet, or under another ERL_EPMD_PORT)", alive, mapper)
	case errors.Is(err, dist.ErrBadCookie):
		return "the node refused this node's cookie"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("unknown host %s (%v)", host, dnsErr.Err)
	case errors.As(err, &opErr) && opErr.Op == "dial" && strings.Contains(err.Error(), "port mapper"):
		return fmt.Sprintf("host %s unreachable: %s does not answer (%v)", host, mapper, opErr.Err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Sprintf("host %s unreachable (%v)", host, opErr.Err)
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time (" + err.Error() + ")"
	}
	return err.Error()
}

// Disconnect drops the connection to a node.
func (x *Proc) Disconnect(name string) bool { return x.needDist().Disconnect(name) }

// List returns the connected visible nodes.
func (x *Proc) List() []string {
	if x.rt.dist == nil {
		return []string{}
	}
	return x.rt.dist.Nodes()
}

// Ping answers "pong" or "pang".
func (x *Proc) Ping(name string) string {
	if x.rt.dist == nil {
		return "pang"
	}
	return x.rt.dist.Ping(x.ctx(), name)
}

// Spawn starts a process from a shipped function: spawn(fn) here,
// spawn(node, fn) on another node.
func (x *Proc) Spawn(link bool, args ...any) proc.Pid {
	what := "spawn"
	if link {
		what = "spawnLink"
	}
	pid, _ := x.spawn(what, link, false, args)
	return pid
}

// SpawnMonitor is Spawn with a monitor from the caller.
func (x *Proc) SpawnMonitor(args ...any) (proc.Pid, proc.Ref) {
	return x.spawn("spawnMonitor", false, true, args)
}

func (x *Proc) spawn(what string, link, monitor bool, args []any) (proc.Pid, proc.Ref) {
	var node string
	switch len(args) {
	case 1:
	case 2:
		switch where := args[0].(type) {
		case string:
			node = where
		case Placement:
			n, err := x.place(where)
			x.check(err, what)
			node = n
		default:
			fail("%s(node, func() {...}): the node must be a string or a placement (leastLoaded(), hash(key), ...), got %T", what, args[0])
		}
	default:
		fail("%s takes a function, or a node or placement and a function", what)
	}
	b, ok := args[len(args)-1].(eval.Bundle)
	if !ok {
		fail("%s: the last argument must be a func literal or a function declared in this shell", what)
	}
	if node == "" || node == x.rt.node.Name() {
		pid, ref, err := x.rt.spawnLocal(x, b, link, monitor)
		x.check(err, what)
		return pid, ref
	}
	d := x.needDist()
	src, err := x.rt.session.Source(b)
	x.check(err, what)
	pid, ref, err := d.SpawnRemote(x.ctx(), x.proc(), node, "", nil, dist.SpawnOptions{
		Link: link, Monitor: monitor, Source: src, GroupLeader: x.rt.groupLeader,
	})
	if errors.Is(err, dist.ErrNodeDown) && !errors.Is(err, dist.ErrBadNodeName) {
		return x.unreachable(what, node, link, monitor, err)
	}
	if err != nil && strings.HasPrefix(err.Error(), "spawn on "+node+":") {
		fail("%w", err) // dist named the call already
	}
	x.check(err, what+" on "+node)
	return pid, ref
}

// unreachable is spawn on a node that cannot be reached, as Erlang does
// it: a warning, and a pid (of this node) that exits at once with
// :noconnection, so that a link or monitor asked for fires with that
// reason. The exit is delivered before this returns.
func (x *Proc) unreachable(what, node string, link, monitor bool, err error) (proc.Pid, proc.Ref) {
	pid, ref, serr := x.proc().SpawnHandler(func(*proc.Process, any) {}, proc.SpawnOptions{
		Link: link, Monitor: monitor, Label: what + " on " + node + ": no connection",
	})
	x.check(serr, what)
	fmt.Fprintf(x.rt.errw, "[warning] %s on %s: cannot start the process: %s; %v exits with :noconnection\n",
		what, node, connectReason(node, err), pid)
	_ = x.rt.node.Exit(pid, proc.NoConnection)
	return pid, ref
}

// Send sends msg to a pid, a local registered name, or at(name, node), and
// returns msg, as Erlang's send does.
func (x *Proc) Send(to any, msg any) any {
	var err error
	switch t := to.(type) {
	case proc.Pid:
		err = x.proc().Send(x.rt.node.Resolve(t), msg)
	case string:
		err = x.proc().SendName(proc.Name{Name: t}, msg)
	case proc.Name:
		err = x.proc().SendName(t, msg)
	case Global:
		x.sendGlobal(t, msg)
	default:
		fail("send: the destination must be a pid, a registered name, at(name, node) or global(name), got %T", to)
	}
	x.check(err, "send")
	return msg
}

// Receive takes the next message, waiting at most the timeout if one is
// given (then it returns the atom :timeout, as receive ... after does).
func (x *Proc) Receive(timeout ...time.Duration) any {
	return x.receive("receive", nil, timeout)
}

// ReceiveMatch takes the first message, in mailbox order, for which match
// returns true, leaving the others queued (Erlang's selective receive);
// after the timeout, if one is given, it returns the atom :timeout.
func (x *Proc) ReceiveMatch(match func(msg any) bool, timeout ...time.Duration) any {
	if match == nil {
		fail("receiveMatch: the match function is nil")
	}
	return x.receive("receiveMatch", match, timeout)
}

func (x *Proc) receive(what string, match func(any) bool, timeout []time.Duration) any {
	ctx := x.ctx()
	if len(timeout) > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout[0])
		defer cancel()
	}
	p := x.proc()
	m, err := p.ReceiveMatch(ctx, match)
	if errors.Is(err, context.DeadlineExceeded) && len(timeout) > 0 {
		return proc.Atom("timeout")
	}
	if errors.Is(err, proc.ErrDead) {
		fail("%s: the process %v exited while waiting: %s", what, p.Pid(), proc.FormatReason(p.Reason()))
	}
	x.check(err, what)
	return m
}

// Flush prints the messages in the mailbox and empties it.
func (x *Proc) Flush() {
	for _, m := range x.proc().Flush() {
		fmt.Fprintln(x.rt.out, format.Value(m))
	}
}

// Register names a process.
func (x *Proc) Register(name string, pid proc.Pid) bool {
	x.check(x.rt.node.Register(name, x.rt.node.Resolve(pid)), "register")
	return true
}

// Unregister drops a name.
func (x *Proc) Unregister(name string) bool {
	x.check(x.rt.node.Unregister(name), "unregister")
	return true
}

// Whereis returns the pid registered under name, or nil.
func (x *Proc) Whereis(name string) any {
	if pid, ok := x.rt.node.Whereis(name); ok {
		return pid
	}
	return nil
}

// Registered lists the registered names.
func (x *Proc) Registered() []string { return x.rt.node.Registered() }

// Link links the caller to pid.
func (x *Proc) Link(pid proc.Pid) bool {
	x.check(x.proc().Link(x.rt.node.Resolve(pid)), "link")
	return true
}

// Unlink removes a link.
func (x *Proc) Unlink(pid proc.Pid) bool {
	x.check(x.proc().Unlink(x.rt.node.Resolve(pid)), "unlink")
	return true
}

// Monitor monitors a pid, a local registered name, or at(name, node).
func (x *Proc) Monitor(to any) proc.Ref {
	switch t := to.(type) {
	case proc.Pid:
		return x.proc().Monitor(x.rt.node.Resolve(t))
	case string:
		return x.proc().MonitorName(proc.Name{Name: t})
	case proc.Name:
		return x.proc().MonitorName(t)
	case Global:
		return x.monitorGlobal(t)
	}
	fail("monitor: want a pid, a registered name, at(name, node) or global(name), got %T", to)
	return proc.Ref{}
}

// Demonitor drops a monitor, and its DOWN message if it already came.
func (x *Proc) Demonitor(ref proc.Ref) bool { return x.proc().Demonitor(ref, true) }

// TrapExit turns exit signals into messages; it returns the old setting.
func (x *Proc) TrapExit(on bool) bool { return x.proc().TrapExit(on) }

// Exit ends the caller with a reason (exit(reason)), or sends an exit
// signal to another process (exit(pid, reason)). In the shell,
// exit(reason) ends the snippet and prints "** (exit) reason"; the shell's
// process lives on, as in iex.
func (x *Proc) Exit(args ...any) bool {
	switch len(args) {
	case 1:
		if x.p == nil {
			// Typed at the prompt: as in iex, an exception that ends the
			// snippet, not the shell's process (a script stops there).
			panic(shellExit{args[0]})
		}
		x.proc().Exit(args[0]) // does not return in a spawned process
		fail("exit: %s", proc.FormatReason(args[0]))
	case 2:
		pid, ok := args[0].(proc.Pid)
		if !ok {
			fail("exit(pid, reason): the first argument must be a pid, got %T", args[0])
		}
		x.check(x.proc().SendExit(x.rt.node.Resolve(pid), args[1]), "exit")
		return true
	}
	fail("exit takes a reason, or a pid and a reason")
	return false
}

// ParsePid parses a printed pid.
func (x *Proc) ParsePid(s string) proc.Pid {
	pid, err := proc.ParsePid(s)
	x.check(err, "pid")
	return x.rt.node.Resolve(pid)
}

// RPC calls fn on node and returns its result, or the error as a value.
func (x *Proc) RPC(node, fn string, args ...any) any {
	ctx, args, cancel := withTimeout(x.ctx(), args) // timeout(d), last
	defer cancel()
	v, err := x.needDist().RPC(x.rt.withOutput(ctx), node, fn, args...)
	if err != nil {
		return err
	}
	return v
}

// Cast runs fn on node without waiting.
func (x *Proc) Cast(node, fn string, args ...any) bool {
	x.check(x.needDist().Cast(x.rt.withOutput(x.ctx()), node, fn, args...), "cast")
	return true
}

// Async starts an rpc on a node, or on the node a placement chooses, and
// returns at once; Await gets its result (an error value when no node
// fits the placement).
func (x *Proc) Async(where any, what any, args ...any) *Task {
	fn, lit, literal := asyncWhat(what) // a name, or a func literal (async_literal.go)
	if literal {
		fn = "func literal"
	}
	d := x.needDist()
	var node string
	switch w := where.(type) {
	case string:
		node = w
	case Placement:
		n, err := x.place(w)
		if err != nil {
			t := &Task{Node: w.String(), Fn: fn, done: make(chan struct{}), err: fmt.Errorf("async: %w", err), cancel: func() {}}
			close(t.done)
			return t
		}
		node = n
	default:
		fail("async: the node must be a string or a placement (leastLoaded(), hash(key), ...), got %T", where)
	}
	if literal {
		return x.asyncLiteral(d, node, lit, args)
	}
	return x.rt.startTask(d, x.owner(), node, fn, args)
}

// Await waits for a Task's result, 5 s by default as Elixir's Task.await;
// after the timeout it returns an error and cancels the task.
func (x *Proc) Await(t *Task, timeout ...time.Duration) any {
	if t == nil {
		fail("await: nil task")
	}
	if t.awaited.Swap(true) {
		fail("await: %v was already awaited", t)
	}
	d := 5 * time.Second
	if len(timeout) > 0 {
		d = timeout[0]
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.done:
		if t.err != nil {
			return t.err
		}
		return t.value
	case <-timer.C:
		t.cancel()
		return fmt.Errorf("await %v: %w after %v", t, proc.ErrTimeout, d)
	case <-x.ctx().Done():
		t.cancel()
		fail("await: %w", x.ctx().Err())
	}
	return nil
}

// Multicall calls fn on every node at once; each result is a value or an
// error.
func (x *Proc) Multicall(nodes []string, fn string, args ...any) []any {
	ctx, args, cancel := withTimeout(x.ctx(), args) // timeout(d), last
	defer cancel()
	rs := x.needDist().Multicall(x.rt.withOutput(ctx), nodes, fn, args...)
	out := make([]any, len(rs))
	for i, r := range rs {
		out[i] = valueOrError(r.Value, r.Err)
	}
	return out
}

// Processes returns the process table of this node, or of the node named.
func (x *Proc) Processes(node ...string) Table {
	x.proc() // the shell's own process is part of the table, as in iex
	if len(node) == 0 || node[0] == x.rt.node.Name() {
		return Table(x.rt.node.Processes())
	}
	if len(node) > 1 {
		fail("processes takes no argument, or a node name")
	}
	v, err := x.needDist().RPC(x.ctx(), node[0], "node.Processes")
	x.check(err, "processes")
	t, err := tableFromWire(v)
	x.check(err, "processes on "+node[0])
	return t
}

// Info describes one process, on this node or another, or returns nil if
// it is not alive.
func (x *Proc) Info(pid proc.Pid) any {
	pid = x.rt.node.Resolve(pid)
	if !x.rt.node.IsLocal(pid) {
		v, err := x.needDist().RPC(x.ctx(), pid.Node, "node.ProcessInfo", pid)
		x.check(err, "i")
		if v == nil {
			return nil
		}
		in, ok := infoFromWire(v)
		if !ok {
			fail("i: %s answered with %s", pid.Node, format.Value(v))
		}
		return Info(in)
	}
	in, ok := x.rt.node.Info(pid)
	if !ok {
		return nil
	}
	return Info(in)
}

// MonitorNodes subscribes the caller to NodeUp and NodeDown messages.
func (x *Proc) MonitorNodes(on bool) bool {
	x.needDist().MonitorNodes(x.proc().Pid(), on, false)
	return true
}

// NodeNotices turns the node up/down lines above the prompt on or off.
func (x *Proc) NodeNotices(on bool) bool { return x.rt.notices.Swap(on) }

// History returns an earlier result: v() the last, v(n) result n, v(-k)
// the k-th from the end.
func (x *Proc) History(n ...int) any {
	v, err := x.rt.result(n...)
	x.check(err, "v")
	return v
}

// Help prints the helpers, or with a name (help(spawn), help("rpc")) one
// helper's signature, what it does and an example. An unknown name fails.
func (x *Proc) Help(name ...any) {
	if len(name) == 0 {
		fmt.Fprintln(x.rt.out, helpText)
		return
	}
	s, ok := name[0].(string)
	if len(name) > 1 || !ok {
		fail("help takes a helper's name: help(spawn) or help(\"spawn\"), got %v", name)
	}
	text, err := helpFor(s)
	if err != nil {
		fail("%v", err)
	}
	fmt.Fprintln(x.rt.out, text)
}

// Quit stops the node and leaves the shell.
func (x *Proc) Quit() { x.rt.halt() }
