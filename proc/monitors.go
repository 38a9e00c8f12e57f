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
	q.addWatcherLocked(ref, w)
	return true
}

// localWatcher is a monitor held on a process by another process of the
// same node. Its Ref and the holder's Pid share the node's name and
// creation, so only the numbers are kept: it fits in the Process struct,
// where a watchers map of one entry would cost about 700 bytes, and most
// processes are monitored by at most one process at a time (their
// spawner, or a caller).
type localWatcher struct {
	byName     string    // the name the monitor was set on, or ""
	ref        [3]uint32 // Ref.ID
	id, serial uint32    // the holder's Pid.ID and Pid.Serial
}

// addWatcherLocked records the monitor ref that w holds on q: in
// q.watcher1 if it is free and the monitor local, else in q.watchers.
// Called with q.mu held, or before q is published.
func (q *Process) addWatcherLocked(ref Ref, w watcher) {
	n := q.node
	if !q.hasWatcher1 && ref.Node == n.name && ref.Creation == n.creation &&
		w.pid.Node == n.name && w.pid.Creation == n.creation {
		q.watcher1 = localWatcher{byName: w.byName, ref: ref.ID, id: w.pid.ID, serial: w.pid.Serial}
		q.hasWatcher1 = true
		return
	}
	if q.watchers == nil {
		q.watchers = make(map[Ref]watcher)
	}
	q.watchers[ref] = w
}

// removeWatcherLocked drops the monitor ref held on q. Called with q.mu held.
func (q *Process) removeWatcherLocked(ref Ref) {
	n := q.node
	if q.hasWatcher1 && q.watcher1.ref == ref.ID && ref.Node == n.name && ref.Creation == n.creation {
		q.watcher1, q.hasWatcher1 = localWatcher{}, false
		return
	}
	delete(q.watchers, ref)
}

// expand returns the full Ref and watcher of a localWatcher of node n.
func (lw *localWatcher) expand(n *Node) (Ref, watcher) {
	return Ref{Node: n.name, Creation: n.creation, ID: lw.ref},
		watcher{pid: Pid{Node: n.name, ID: lw.id, Serial: lw.serial, Creation: n.creation}, byName: lw.byName}
}

// deliverDown gives the monitoring process its DownMsg, unless it dropped
// the monitor meanwhile.
func (p *Process) deliverDown(ref Ref, t monitorTarget, reason any) {
	p.enqueueDown(&ref, DownMsg{Ref: ref, Pid: t.pid, Name: t.name, Reason: reason})
}

// enqueueDown is deliverDown with the DownMsg for *ref already boxed by the
// caller, which keeps this frame small (see notifyDeath).
func (p *Process) enqueueDown(ref *Ref, msg any) {
	p.kick(p.pushDown(ref, msg))
}

// pushDown puts msg, the DownMsg for *ref, in the mailbox if the monitor is
// still held, and returns what the caller must kick.
func (p *Process) pushDown(ref *Ref, msg any) kick {
	p.mu.Lock()
	if _, ok := p.monitors[*ref]; !ok || p.dead {
		p.mu.Unlock()
		return 0
	}
	delete(p.monitors, *ref)
	k := p.pushLocked(msg)
	p.mu.Unlock()
	return k
}

// downLocal delivers to p the DownMsg of its monitor w1 on dead, and
// returns what the caller must kick. It is pushDown for notifyWatcher1,
// building the Ref in its own frame.
//
//go:noinline
func (p *Process) downLocal(w1 *localWatcher, dead *Process, reason any) kick {
	ref := Ref{Node: p.node.name, Creation: p.node.creation, ID: w1.ref}
	return p.pushDown(&ref, newDownMsg(&ref, &dead.pid, w1.byName, p.node.name, reason))
}

// sendDown tells watcher w that the process dead ended.
func (n *Node) sendDown(dead *Pid, w *watcher, ref *Ref, reason any) {
	if w.pid.Node != n.name {
		n.sendDownRemote(dead, w, ref, reason)
		return
	}
	if q := n.lookup(w.pid); q != nil {
		q.kick(q.pushDown(ref, newDownMsg(ref, dead, w.byName, n.name, reason)))
	}
}

// newDownMsg builds and boxes a DownMsg in a frame of its own, popped before
// the message is enqueued.
//
//go:noinline
func newDownMsg(ref *Ref, dead *Pid, byName, node string, reason any) any {
	m := DownMsg{Ref: *ref, Pid: *dead, Reason: reason}
	if byName != "" {
		m.Name = Name{Name: byName, Node: node}
	}
	return m
}

// sendDownRemote is sendDown's remote case, kept out of the local path's
// stack frame (see notifyDeath).
//
//go:noinline
func (n *Node) sendDownRemote(dead *Pid, w *watcher, ref *Ref, reason any) {
	_ = n.forward(Signal{Kind: SigDown, From: *dead, To: w.pid, ToName: w.byName, Ref: *ref, Msg: reason})
}

// dropWatcher removes, on the monitored side, a monitor that watcher held.
func (n *Node) dropWatcher(watcherPid Pid, ref Ref, t monitorTarget) {
	node := t.pid.Node
	if t.name.Name != "" {
		node = t.name.Node
	}
	if node != n.name {
		n.dropWatcherRemote(watcherPid, ref, t, node)
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
		q.removeWatcherLocked(ref)
		q.mu.Unlock()
	}
}

// dropWatcherRemote is dropWatcher's remote case, kept out of the local
// path's stack frame (see notifyDeath).
//
//go:noinline
func (n *Node) dropWatcherRemote(watcherPid Pid, ref Ref, t monitorTarget, node string) {
	sig := Signal{Kind: SigDemonitor, From: watcherPid, To: t.pid, Ref: ref}
	if t.name.Name != "" {
		sig.To, sig.ToName = Pid{Node: node}, t.name.Name
	}
	_ = n.forward(sig)
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
