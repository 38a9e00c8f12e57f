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
		kind := SigExit2
		if link {
			kind = SigExit
		}
		return n.forward(Signal{Kind: kind, From: from, To: to, Msg: reason})
	}
	if q := n.lookup(to); q != nil {
		q.handleExit(from, reason, link)
	}
	return nil
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

// enqueueLocked adds a message with mu held, waking or scheduling the owner.
func (p *Process) enqueueLocked(msg any) {
	p.incoming = append(p.incoming, msg)
	if p.waiting {
		p.waiting = false
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	if p.style == styleHandler && !p.scheduled {
		p.scheduled = true
		p.node.wg.Add(1)
		go p.drain()
	}
}

// die ends the process with reason, once: it frees the name, leaves the
// table, and tells links and monitors. Safe from any goroutine.
func (p *Process) die(reason any) {
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return
	}
	p.dead = true
	p.dying.Store(true)
	p.reason = reason
	links, watchers, monitors := p.links, p.watchers, p.monitors
	p.links, p.watchers, p.monitors = nil, nil, nil
	name := p.name
	p.name = ""
	p.incoming = nil
	cancel := p.cancel
	wake := p.waiting
	p.waiting = false
	p.mu.Unlock()

	if wake {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	if cancel != nil {
		cancel()
	}
	n := p.node
	if name != "" {
		n.unregisterProc(p, name)
	}
	n.procs.Delete(p.pid.ID)
	n.count.Add(-1)

	for l := range links {
		_ = n.exitSignal(p.pid, l, reason, true)
	}
	for ref, w := range watchers {
		n.sendDown(p.pid, w, ref, reason)
	}
	for ref, t := range monitors {
		n.dropWatcher(p.pid, ref, t)
	}
	if p.style != styleGoroutine {
		p.release()
	}
}

// Reason returns the exit reason of a dead process (nil while alive).
func (p *Process) Reason() any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reason
}
