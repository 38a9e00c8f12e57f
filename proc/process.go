package proc

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Func is the body of a goroutine-style process: it runs on a goroutine of
// its own and ends the process when it returns (reason normal).
type Func func(p *Process)

// Handler is the body of a handler-style process: it is called once per
// message, in mailbox order. Such a process holds no goroutine while its
// mailbox is empty, which makes idle processes cheap (see docs/benchmarks.md).
// A handler must not call Receive.
type Handler func(p *Process, msg any)

type style uint8

const (
	styleGoroutine style = iota // Func on its own goroutine
	styleHandler                // Handler run on a goroutine only while messages wait
	styleAttached               // driven by a goroutine that is not the process's own (the shell)
)

// SpawnOptions set up a process atomically with its start: a link or monitor
// from the spawning process is in place before the new process can die.
type SpawnOptions struct {
	Link     bool   // link the spawner and the new process (needs a spawning process)
	Monitor  bool   // the spawner monitors the new process (needs a spawning process)
	Name     string // register the new process under this name
	TrapExit bool   // start with exits trapped
	Label    string // what the process is doing, shown by Info
	// Supervised says that a supervisor reports this process's exits; the
	// node does not (see Node.SetCrashReporter).
	Supervised bool
	// MaxMailbox bounds the messages waiting in the mailbox (0: the node's
	// default, see SetMailboxLimit); MailboxFull says what a send to a
	// full mailbox does.
	MaxMailbox  int
	MailboxFull MailboxPolicy
}

// Process is one lightweight process. Its methods that act as the process
// (Receive, Exit, Link, Monitor, TrapExit, Call, Spawn*, Send) must be called
// only from the process's own goroutine (for an attached process: from the
// one goroutine that drives it). Pid, Node, Context and Alive are safe from
// any goroutine.
//
// A process dies when its function returns (reason normal), calls Exit,
// panics (reason PanicReason), or receives an exit signal it does not trap.
// When it is killed from outside while running, it is dead at once: its
// links and monitors are told, its name is freed, and its goroutine is
// unwound the next time it calls Receive, Send or another method of this
// type. Code that never calls back into proc cannot be stopped: Go has no
// way to kill a goroutine. Long-running work should watch Context().
type Process struct {
	node *Node
	pid  Pid
	fn   Func
	hand Handler
	// wake carries the token that wakes the owner blocked in receive. The
	// owner makes it, under mu, the first time it blocks; others touch it
	// only after seeing waiting set.
	wake chan struct{}

	// inboxLen mirrors len(inbox)-head for Info; written only by the owner.
	inboxLen atomic.Int64

	// The fields are ordered by alignment to keep the struct, which every
	// process costs, in the 288-byte size class.

	mu sync.Mutex // guards every field below up to the owner-only ones
	// incoming holds messages delivered since the owner last looked.
	incoming []any
	reason   any
	name     string
	label    string
	links    map[Pid]struct{}
	monitors map[Ref]monitorTarget // monitors this process holds on others
	watchers map[Ref]watcher       // monitors others hold on this process, but watcher1
	watcher1 localWatcher          // one more, held by a local process; set when hasWatcher1
	ctx      *procContext          // made by the first Context call

	hasWatcher1 bool
	waiting     bool // the owner is blocked on wake
	scheduled   bool // handler style: a drain goroutine is running
	dead        bool
	trapExit    bool
	released    bool // the node's count for this process's life was returned
	supervised  bool // set at start: a supervisor reports its crashes, not the node
	// mailboxWarned: the node's mailbox warning was given for this process.
	mailboxWarned bool
	limit         mailboxLimit // set at start

	// Set at start, then read-only.
	style style
	// dying is set with dead, and read without the lock on hot paths.
	dying atomic.Bool

	// Owner-only: touched by the process's own goroutine, never under mu.
	inbox []any
	head  int
	timer *time.Timer // reused by every receive with a timeout
}

// procContext is a process's Context, cancelled when it dies.
type procContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// monitorTarget is what a monitor held by a process points at.
type monitorTarget struct {
	pid  Pid  // the monitored process (zero when monitored by a name not resolved)
	name Name // set when monitored by registered name
}

// watcher is a process holding a monitor on this one.
type watcher struct {
	pid    Pid
	byName string // the name the monitor was set on, or ""
}

// Pid returns the process's pid.
func (p *Process) Pid() Pid { return p.pid }

// Self is Pid, named as Erlang's self().
func (p *Process) Self() Pid { return p.pid }

// Node returns the node the process runs on.
func (p *Process) Node() *Node { return p.node }

// Supervised reports whether the process was spawned Supervised: its
// supervisor, not the node, reports its crashes. Safe from any goroutine.
func (p *Process) Supervised() bool { return p.supervised }

// Alive reports whether the process is still running.
func (p *Process) Alive() bool { return !p.dying.Load() }

// Context returns a context cancelled when the process dies. Blocking work
// done by the process should use it so that a kill stops it.
func (p *Process) Context() context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil {
		ctx, cancel := context.WithCancel(context.Background())
		p.ctx = &procContext{ctx, cancel}
		if p.dead {
			cancel()
		}
	}
	return p.ctx.ctx
}

// SetLabel says what the process is doing; Info shows it.
func (p *Process) SetLabel(label string) {
	p.mu.Lock()
	p.label = label
	p.mu.Unlock()
}

// Spawn starts a goroutine-style process running fn.
func (n *Node) Spawn(fn Func) (Pid, error) {
	pid, _, err := n.spawn(nil, fn, nil, SpawnOptions{})
	return pid, err
}

// SpawnOpt starts fn with options; Link and Monitor need a spawning process
// and are refused here (use Process.SpawnOpt).
func (n *Node) SpawnOpt(fn Func, o SpawnOptions) (Pid, error) {
	pid, _, err := n.spawn(nil, fn, nil, o)
	return pid, err
}

// SpawnHandler starts a handler-style process: h runs once per message,
// and the process holds no goroutine while idle.
func (n *Node) SpawnHandler(h Handler, o SpawnOptions) (Pid, error) {
	pid, _, err := n.spawn(nil, nil, h, o)
	return pid, err
}

// Attach makes a process driven by the calling goroutine instead of one of
// its own: the shell is one. It receives and sends like any process; when
// it is killed its methods return ErrDead instead of unwinding the caller.
// End it with Exit.
func (n *Node) Attach(o SpawnOptions) (*Process, error) {
	p, _, err := n.start(nil, styleAttached, nil, nil, o)
	return p, err
}

// Spawn starts a process from this one (spawn/1).
func (p *Process) Spawn(fn Func) (Pid, error) {
	pid, _, err := p.node.spawn(p, fn, nil, SpawnOptions{})
	return pid, err
}

// SpawnLink starts a process linked to this one (spawn_link/1).
func (p *Process) SpawnLink(fn Func) (Pid, error) {
	pid, _, err := p.node.spawn(p, fn, nil, SpawnOptions{Link: true})
	return pid, err
}

// SpawnMonitor starts a process monitored by this one (spawn_monitor/1).
func (p *Process) SpawnMonitor(fn Func) (Pid, Ref, error) {
	return p.node.spawn(p, fn, nil, SpawnOptions{Monitor: true})
}

// SpawnOpt starts fn with options; the returned Ref is the monitor's when
// o.Monitor is set.
func (p *Process) SpawnOpt(fn Func, o SpawnOptions) (Pid, Ref, error) {
	return p.node.spawn(p, fn, nil, o)
}

// SpawnHandler starts a handler-style process from this one.
func (p *Process) SpawnHandler(h Handler, o SpawnOptions) (Pid, Ref, error) {
	return p.node.spawn(p, nil, h, o)
}

func (n *Node) spawn(parent *Process, fn Func, h Handler, o SpawnOptions) (Pid, Ref, error) {
	if fn == nil && h == nil {
		return Pid{}, Ref{}, errNilFunc
	}
	if parent != nil {
		if err := parent.checkAlive(); err != nil {
			return Pid{}, Ref{}, err
		}
	}
	st := styleGoroutine
	if h != nil {
		st = styleHandler
	}
	p, ref, err := n.start(parent, st, fn, h, o)
	if err != nil {
		return Pid{}, Ref{}, err
	}
	if st == styleGoroutine {
		go p.run()
	}
	return p.pid, ref, nil
}

// start builds and publishes a process; the caller starts its goroutine.
// A process spawning another often runs near the bottom of its first
// 2 KB stack: this frame is kept small, the rarer cases in functions of
// their own.
func (n *Node) start(parent *Process, st style, fn Func, h Handler, o SpawnOptions) (*Process, Ref, error) {
	linkOrMonitor := o.Link || o.Monitor
	if linkOrMonitor && parent == nil {
		return nil, Ref{}, errSpawnNeedsParent
	}
	p := &Process{node: n, style: st, fn: fn, hand: h, trapExit: o.TrapExit, label: o.Label, supervised: o.Supervised, limit: n.limitFor(o)}
	var ref Ref
	if linkOrMonitor {
		p.startWith(parent, o.Link, o.Monitor, &ref)
	}
	if !n.publish(p) {
		return nil, Ref{}, ErrNodeStopped
	}
	if o.Name != "" {
		if err := n.Register(o.Name, p.pid); err != nil {
			p.die(Normal) // the parent has not recorded its side of a link or monitor yet: it hears nothing
			p.release()   // its goroutine never started
			return nil, Ref{}, err
		}
	}
	if linkOrMonitor {
		parent.adopt(p.pid, o.Link, o.Monitor, &ref)
	}
	return p, ref, nil
}

var (
	errSpawnNeedsParent = errors.New("proc: link or monitor at spawn needs a spawning process")
	errNilFunc          = errors.New("proc: spawn of a nil function")
)

// startWith sets up, on a process not yet published, its link to parent
// and parent's monitor on it (whose reference it stores in *ref).
//
//go:noinline
func (p *Process) startWith(parent *Process, link, monitor bool, ref *Ref) {
	if link {
		p.links = map[Pid]struct{}{parent.pid: {}}
	}
	if monitor {
		*ref = p.node.MakeRef()
		p.addWatcherLocked(*ref, watcher{pid: parent.pid}) // p is not published yet: no lock needed
	}
}

// publish gives p its pid and puts it in the table; false once the node
// has stopped.
func (n *Node) publish(p *Process) bool {
	n.gate.RLock()
	if n.stopped.Load() {
		n.gate.RUnlock()
		return false
	}
	n.wg.Add(1) // returned by release when the process has died and its goroutines are done
	n.gate.RUnlock()

	// The pid is taken only now, so that every ID handed out is stored in
	// the table (which frees its pages by counting deletions).
	p.pid = n.newPid()
	n.procs.store(p)
	n.count.Add(1)
	return true
}

// adopt records, on the spawning side, the link to and the monitor (*ref)
// on the new local process child.
//
//go:noinline
func (parent *Process) adopt(child Pid, link, monitor bool, ref *Ref) {
	parent.mu.Lock()
	if link {
		if parent.links == nil {
			parent.links = make(map[Pid]struct{})
		}
		parent.links[child] = struct{}{}
	}
	if monitor {
		if parent.monitors == nil {
			parent.monitors = make(map[Ref]monitorTarget)
		}
		parent.monitors[*ref] = monitorTarget{pid: child}
	}
	parent.mu.Unlock()
}

// run is the goroutine of a goroutine-style process.
func (p *Process) run() {
	defer p.finish()
	p.fn(p)
	p.die(Normal)
}

// finish turns the way the process's goroutine ended into an exit reason:
// a panic becomes PanicReason, a Goexit after death (Exit, or noticing a
// kill) needs nothing more. It then returns the process's life count.
func (p *Process) finish() {
	if r := recover(); r != nil {
		p.panicked(r)
	} else if !p.dying.Load() {
		p.die(Killed) // Goexit without a reason: only user code calling runtime.Goexit
	}
	p.release()
}

// panicked ends the process whose own function panicked with v, and
// reports the crash. Called from a deferred recover, so debug.Stack still
// shows the panic.
//
//go:noinline
func (p *Process) panicked(v any) {
	reason := NewPanicReason(v)
	if name, died := p.die(reason); died {
		p.reportCrash(name, reason)
	}
}

// reportCrash tells the node's crash reporter that p, registered as name
// when it died, ended with reason by its own doing (a panic, or Exit with
// a PanicReason), unless a supervisor reports it (SpawnOptions.Supervised).
// A process that dies of an exit signal carrying another's PanicReason ran
// no failing code of its own and is not reported: Erlang's proc_lib writes
// a crash report for the process that crashed, not for those its exit
// signal kills. Called without p's lock held.
//
//go:noinline
func (p *Process) reportCrash(name string, reason any) {
	n := p.node
	if p.supervised || n.crash.Load() == nil {
		return
	}
	p.mu.Lock()
	label := p.label
	p.mu.Unlock()
	var fn string
	switch {
	case p.fn != nil:
		fn = funcName(p.fn)
	case p.hand != nil:
		fn = funcName(p.hand)
	}
	n.ReportCrash(CrashReport{Pid: p.pid, Name: name, Label: label, Function: fn, Reason: reason})
}

// release returns the node's count for this process once it is dead and
// none of its goroutines runs.
func (p *Process) release() {
	p.mu.Lock()
	done := p.dead && !p.released && !p.scheduled
	if done {
		p.released = true
	}
	p.mu.Unlock()
	if done {
		p.node.wg.Done()
	}
}

// drain runs a handler-style process's waiting messages on a goroutine that
// exists only while there are some.
func (p *Process) drain() {
	defer p.node.wg.Done()
	completed := false
	defer func() {
		if completed {
			return
		}
		r := recover()
		p.mu.Lock()
		p.scheduled = false
		p.mu.Unlock()
		if r != nil {
			p.panicked(r)
		} else {
			p.die(Killed)
		}
		p.release()
	}()
	for {
		p.mu.Lock()
		if p.dead || len(p.incoming) == 0 {
			p.scheduled = false
			p.incoming = shrink(p.incoming)
			p.mu.Unlock()
			p.inbox = shrink(p.inbox)
			completed = true
			p.release()
			return
		}
		p.inbox, p.incoming = p.incoming, p.inbox[:0]
		p.head = 0
		p.inboxLen.Store(int64(len(p.inbox)))
		p.mu.Unlock()
		// p.head, not a local index, marks the next message: the handler
		// may change the inbox under the loop (Demonitor's flush compacts
		// it, and pulls in newer messages first), as a receive would.
		for p.head < len(p.inbox) {
			m := p.inbox[p.head]
			p.inbox[p.head] = nil
			p.head++
			p.inboxLen.Store(int64(len(p.inbox) - p.head))
			if p.dying.Load() {
				break
			}
			p.hand(p, m)
		}
		clear(p.inbox[p.head:]) // what a death left unhandled
		p.inbox = p.inbox[:0]
		p.head = 0
	}
}

// shrink drops a large idle buffer so that an idle process stays small.
func shrink(b []any) []any {
	if cap(b) > 64 {
		return nil
	}
	return b[:0]
}

// checkAlive is called at the top of the process's own operations: a killed
// goroutine-style process unwinds here; an attached one gets ErrDead.
func (p *Process) checkAlive() error {
	if !p.dying.Load() {
		return nil
	}
	if p.style == styleAttached {
		return ErrDead
	}
	runtime.Goexit()
	return ErrDead
}

// Exit ends the calling process with reason (Erlang's exit/1). In a
// goroutine- or handler-style process it does not return; in an attached
// process it returns after the process is dead. A PanicReason given here
// (a panic caught by the process's own code, an interpreter's) is reported
// as a crash, as a panic is (see SetCrashReporter).
func (p *Process) Exit(reason any) {
	if name, died := p.die(reason); died {
		if _, ok := reason.(PanicReason); ok {
			p.reportCrash(name, reason)
		}
	}
	if p.style != styleAttached {
		runtime.Goexit()
	}
}
