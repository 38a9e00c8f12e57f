package proc

// Monitor starts monitoring to (erlang:monitor(process, to)) and returns the
// monitor's reference. When to ends, or does not exist, or its node is cut
// off, this process gets a DownMsg with that reference.
func (p *Process) Monitor(to Pid) Ref {
	if p.checkAlive() != nil {
		return Ref{}
	}
	ref := p.node.MakeRef()
	p.monitor(ref, monitorTarget{pid: to})
	return ref
}

// MonitorName monitors the process registered as to.Name on to.Node ("" for
// this node). The DownMsg names the target by Name, as Erlang's does.
func (p *Process) MonitorName(to Name) Ref {
	if p.checkAlive() != nil {
		return Ref{}
	}
	if to.Node == "" {
		to.Node = p.node.name
	}
	ref := p.node.MakeRef()
	p.monitor(ref, monitorTarget{name: to})
	return ref
}

func (p *Process) monitor(ref Ref, t monitorTarget) {
	n := p.node
	// Record the monitor first, so that a DOWN racing with the set-up finds it.
	p.mu.Lock()
	if p.monitors == nil {
		p.monitors = make(map[Ref]monitorTarget)
	}
	p.monitors[ref] = t
	p.mu.Unlock()

	node := t.pid.Node
	if t.name.Name != "" {
		node = t.name.Node
	}
	if node != n.name {
		sig := Signal{Kind: SigMonitor, From: p.pid, To: t.pid, Ref: ref}
		if t.name.Name != "" {
			sig.To, sig.ToName = Pid{Node: node}, t.name.Name
		}
		if err := n.forward(sig); err != nil {
			p.deliverDown(ref, t, NoConnection)
		}
		return
	}
	var q *Process
	if t.name.Name != "" {
		q = n.whereisProc(t.name.Name)
	} else {
		q = n.lookup(t.pid)
	}
	if q != nil && q.addWatcher(ref, watcher{pid: p.pid, byName: t.name.Name}) {
		return
	}
	p.deliverDown(ref, t, NoProc)
}

// addWatcher records a monitor held on this process; false if it is dead.
func (q *Process) addWatcher(ref Ref, w watcher) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dead {
		return false
	}
	if q.watchers == nil {
		q.watchers = make(map[Ref]watcher)
	}
	q.watchers[ref] = w
	return true
}

// deliverDown gives the monitoring process its DownMsg, unless it dropped
// the monitor meanwhile.
func (p *Process) deliverDown(ref Ref, t monitorTarget, reason any) {
	p.mu.Lock()
	if _, ok := p.monitors[ref]; !ok || p.dead {
		p.mu.Unlock()
		return
	}
	delete(p.monitors, ref)
	msg := DownMsg{Ref: ref, Pid: t.pid, Name: t.name, Reason: reason}
	p.enqueueLocked(msg)
	p.mu.Unlock()
}

// sendDown tells watcher w that the process dead ended.
func (n *Node) sendDown(dead Pid, w watcher, ref Ref, reason any) {
	if w.pid.Node != n.name {
		_ = n.forward(Signal{Kind: SigDown, From: dead, To: w.pid, ToName: w.byName, Ref: ref, Msg: reason})
		return
	}
	if q := n.lookup(w.pid); q != nil {
		t := monitorTarget{pid: dead}
		if w.byName != "" {
			t.name = Name{Name: w.byName, Node: n.name}
		}
		q.deliverDown(ref, t, reason)
	}
}

// dropWatcher removes, on the monitored side, a monitor that watcher held.
func (n *Node) dropWatcher(watcherPid Pid, ref Ref, t monitorTarget) {
	node := t.pid.Node
	if t.name.Name != "" {
		node = t.name.Node
	}
	if node != n.name {
		sig := Signal{Kind: SigDemonitor, From: watcherPid, To: t.pid, Ref: ref}
		if t.name.Name != "" {
			sig.To, sig.ToName = Pid{Node: node}, t.name.Name
		}
		_ = n.forward(sig)
		return
	}
	var q *Process
	if t.name.Name != "" {
		q = n.whereisProc(t.name.Name)
	} else {
		q = n.lookup(t.pid)
	}
	if q != nil {
		q.mu.Lock()
		delete(q.watchers, ref)
		q.mu.Unlock()
	}
}

// Demonitor drops the monitor ref (erlang:demonitor/2). With flush, a
// DownMsg for it that already arrived is removed from the mailbox too. It
// reports whether the monitor was still active.
func (p *Process) Demonitor(ref Ref, flush bool) bool {
	if p.checkAlive() != nil {
		return false
	}
	p.mu.Lock()
	t, ok := p.monitors[ref]
	delete(p.monitors, ref)
	p.mu.Unlock()
	if ok {
		p.node.dropWatcher(p.pid, ref, t)
	}
	if flush {
		p.removeMatching(func(m any) bool {
			d, isDown := m.(DownMsg)
			return isDown && d.Ref == ref
		})
	}
	return ok
}
