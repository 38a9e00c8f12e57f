package proc

import (
	"context"
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
	// flags holds flagDying, set with dead, and flagTraced (see trace.go):
	// read without the lock on hot paths, written only under mu. One word
	// for both keeps the struct in its size class and lets Send test both
	// with the load it already made.
	flags atomic.Uint32

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
func (p *Process) Alive() bool { return p.flags.Load()&flagDying == 0 }

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

// checkAlive is called at the top of the process's own operations: a killed
// goroutine-style process unwinds here; an attached one gets ErrDead.
func (p *Process) checkAlive() error {
	if p.flags.Load()&flagDying == 0 {
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
