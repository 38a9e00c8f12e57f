package proc

import (
	"context"
	"errors"
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

// AttachContext is Attach for work done on behalf of a caller who may give
// up: the process's Context ends when the process dies, as always, and
// also when parent ends (the process itself lives on until its owner ends
// it). An rpc served as a process watches that one context instead of
// two.
func (n *Node) AttachContext(parent context.Context, o SpawnOptions) (*Process, error) {
	p, err := n.Attach(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(parent)
	p.mu.Lock()
	p.ctx = &procContext{ctx, cancel}
	if p.dead {
		cancel()
	}
	p.mu.Unlock()
	return p, nil
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
