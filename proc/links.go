package proc

import "fmt"

// Link links this process with to, both ways (Erlang's link/1). Linking a
// local process that does not exist returns ErrNoProc at once (Erlang
// raises noproc), unless this process traps exits: then, as in Erlang, it
// gets ExitMsg{to, noproc} in its mailbox and Link returns nil.
// A link to a pid of another node is set up through the forwarder; if that
// node cannot be reached the link fires at once with reason noconnection.
func (p *Process) Link(to Pid) error {
	if err := p.checkAlive(); err != nil {
		return err
	}
	if to == p.pid {
		return nil
	}
	n := p.node
	if to.Node != n.name {
		p.mu.Lock()
		p.addLinkLocked(to)
		p.mu.Unlock()
		if err := n.forward(Signal{Kind: SigLink, From: p.pid, To: to}); err != nil {
			p.handleExit(to, NoConnection, true)
		}
		return nil
	}
	q := n.lookup(to)
	if q != nil {
		first, second := p, q
		if q.pid.ID < p.pid.ID {
			first, second = q, p
		}
		first.mu.Lock()
		second.mu.Lock()
		ok := !q.dead && !p.dead
		if ok {
			p.addLinkLocked(to)
			q.addLinkLocked(p.pid)
		}
		second.mu.Unlock()
		first.mu.Unlock()
		if ok {
			return nil
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.trapExit {
		p.enqueueLocked(ExitMsg{From: to, Reason: NoProc})
		return nil
	}
	return fmt.Errorf("link %v: %w", to, ErrNoProc)
}

func (p *Process) addLinkLocked(to Pid) {
	if p.links == nil {
		p.links = make(map[Pid]struct{})
	}
	p.links[to] = struct{}{}
}

// Unlink removes the link between this process and to, both ways. An exit
// signal from to that is still on its way is then ignored.
func (p *Process) Unlink(to Pid) error {
	if err := p.checkAlive(); err != nil {
		return err
	}
	p.mu.Lock()
	_, had := p.links[to]
	delete(p.links, to)
	p.mu.Unlock()
	if !had {
		return nil
	}
	if to.Node != p.node.name {
		_ = p.node.forward(Signal{Kind: SigUnlink, From: p.pid, To: to})
		return nil
	}
	if q := p.node.lookup(to); q != nil {
		q.mu.Lock()
		delete(q.links, p.pid)
		q.mu.Unlock()
	}
	return nil
}

// TrapExit sets whether exit signals become ExitMsg messages instead of
// killing this process (process_flag(trap_exit, on)); it returns the old
// setting. Kill sent with Exit cannot be trapped.
func (p *Process) TrapExit(on bool) bool {
	p.mu.Lock()
	old := p.trapExit
	p.trapExit = on
	p.mu.Unlock()
	return old
}

// SendExit sends an exit signal with reason to another process (Erlang's
// exit/2): Kill kills it even if it traps exits (its reason becomes
// Killed); Normal is ignored unless it traps exits, or to is the caller.
func (p *Process) SendExit(to Pid, reason any) error {
	if err := p.checkAlive(); err != nil {
		return err
	}
	return p.node.exitSignal(p.pid, to, reason, false)
}

// Exit sends an exit signal to to from outside any process.
func (n *Node) Exit(to Pid, reason any) error {
	return n.exitSignal(Pid{}, to, reason, false)
}

// exitSignal delivers an exit signal; link says it comes from a link
// breaking (a process died) rather than from exit/2.
func (n *Node) exitSignal(from, to Pid, reason any, link bool) error {
	if to.Node != n.name {
		return n.exitSignalRemote(from, to, reason, link)
	}
	if q := n.lookup(to); q != nil {
		q.handleExit(from, reason, link)
	}
	return nil
}

// exitSignalRemote is exitSignal's remote case, kept out of the local
// path's stack frame (see notifyDeath).
//
//go:noinline
func (n *Node) exitSignalRemote(from, to Pid, reason any, link bool) error {
	kind := SigExit2
	if link {
		kind = SigExit
	}
	return n.forward(Signal{Kind: kind, From: from, To: to, Msg: reason})
}

// handleExit applies an exit signal to this process, Erlang's rules.
func (p *Process) handleExit(from Pid, reason any, link bool) {
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return
	}
	if link {
		if _, ok := p.links[from]; !ok {
			p.mu.Unlock() // unlinked meanwhile: the signal is void
			return
		}
		delete(p.links, from)
	}
	switch {
	case !link && reason == Kill:
		p.mu.Unlock()
		p.die(Killed)
	case p.trapExit:
		p.enqueueLocked(ExitMsg{From: from, Reason: reason})
		p.mu.Unlock()
	case reason == Normal:
		p.mu.Unlock()
		if !link && from == p.pid {
			p.die(Normal)
		}
	default:
		p.mu.Unlock()
		p.die(reason)
	}
}

// enqueueLocked adds a message with mu held, waking or scheduling the
// owner. Hot paths use pushLocked and kick instead, to wake after unlocking.
func (p *Process) enqueueLocked(msg any) {
	p.kick(p.pushLocked(msg))
}

// die ends the process with reason, once: it frees the name, leaves the
// table, and tells links and monitors. Safe from any goroutine. It reports
// whether this call was the one that ended the process, and the name the
// process was registered under then.
func (p *Process) die(reason any) (name string, died bool) {
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return "", false
	}
	p.dead = true
	traced := p.flags.Load()&flagTraced != 0
	p.flags.Store(flagDying) // and no longer traced: the exit is its last event
	p.reason = reason
	links, watchers, monitors := p.links, p.watchers, p.monitors
	p.links, p.watchers, p.monitors = nil, nil, nil
	var w1 *localWatcher
	var w1v localWatcher
	if p.hasWatcher1 {
		w1v, w1 = p.watcher1, &w1v
		p.watcher1, p.hasWatcher1 = localWatcher{}, false
	}
	name = p.name
	p.name = ""
	p.incoming = nil
	ctx := p.ctx
	wake := p.waiting
	p.waiting = false
	p.mu.Unlock()

	if wake {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	if ctx != nil {
		ctx.cancel()
	}
	n := p.node
	if name != "" {
		n.unregisterProc(p, name)
	}
	n.procs.delete(p)
	n.count.Add(-1)
	if w1 != nil || len(links)+len(watchers)+len(monitors) > 0 {
		p.notifyDeath(reason, links, watchers, monitors, w1)
	}
	if traced {
		p.traceExit(reason)
	}
	if p.style != styleGoroutine {
		p.release()
	}
	return name, true
}

// notifyDeath tells links and monitors that p died. It runs at the bottom
// of the dead process's goroutine, often on its first 2 KB stack: the
// frames on this path are kept small (remote cases are split off, each
// map is walked by a function of its own so that one map iterator at a
// time is on the stack), since growing the stack here costs as much as
// the rest of a spawn.
func (p *Process) notifyDeath(reason any, links map[Pid]struct{}, watchers map[Ref]watcher, monitors map[Ref]monitorTarget, w1 *localWatcher) {
	if len(links) > 0 {
		p.notifyLinks(reason, links)
	}
	if w1 != nil {
		p.notifyWatcher1(reason, w1)
	}
	if len(watchers) > 0 {
		p.notifyWatchers(reason, watchers)
	}
	if len(monitors) > 0 {
		p.dropMonitors(monitors)
	}
}

//go:noinline
func (p *Process) notifyLinks(reason any, links map[Pid]struct{}) {
	for l := range links {
		_ = p.node.exitSignal(p.pid, l, reason, true)
	}
}

// notifyWatcher1 delivers the DownMsg for p.watcher1, a local monitor.
//
//go:noinline
func (p *Process) notifyWatcher1(reason any, w1 *localWatcher) {
	q := p.node.procs.load(w1.id)
	if q == nil || q.pid.Serial != w1.serial {
		return
	}
	q.kick(q.downLocal(w1, p, reason))
}

//go:noinline
func (p *Process) notifyWatchers(reason any, watchers map[Ref]watcher) {
	for ref, w := range watchers {
		p.node.sendDown(&p.pid, &w, &ref, reason)
	}
}

//go:noinline
func (p *Process) dropMonitors(monitors map[Ref]monitorTarget) {
	for ref, t := range monitors {
		p.node.dropWatcher(p.pid, ref, t)
	}
}

// Reason returns the exit reason of a dead process (nil while alive).
func (p *Process) Reason() any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reason
}
