package proc

// Deliver applies a signal that came from another node to the local
// processes it names. The distribution layer calls it from its reader
// goroutine, in arrival order, which keeps per-pair ordering.
func (n *Node) Deliver(s Signal) {
	switch s.Kind {
	case SigSend:
		if q := n.lookup(s.To); q != nil {
			q.deliver(s.Msg)
		}
	case SigSendName:
		if q := n.whereisProc(s.ToName); q != nil {
			q.deliver(s.Msg) // unknown names drop the message, as Erlang does for remote sends
		}
	case SigLink:
		q := n.lookup(s.To)
		if q == nil || !q.addRemoteLink(s.From) {
			_ = n.forward(Signal{Kind: SigExit, From: s.To, To: s.From, Msg: NoProc})
		}
	case SigUnlink:
		if q := n.lookup(s.To); q != nil {
			q.mu.Lock()
			delete(q.links, s.From)
			q.mu.Unlock()
		}
	case SigExit, SigExit2:
		if q := n.lookup(s.To); q != nil {
			q.handleExit(s.From, s.Msg, s.Kind == SigExit)
		}
	case SigMonitor:
		q := n.target(s)
		if q == nil || !q.addWatcher(s.Ref, watcher{pid: s.From, byName: s.ToName}) {
			from := s.To
			if q != nil {
				from = q.pid
			}
			_ = n.forward(Signal{Kind: SigDown, From: from, To: s.From, ToName: s.ToName, Ref: s.Ref, Msg: NoProc})
		}
	case SigDemonitor:
		if q := n.target(s); q != nil {
			q.mu.Lock()
			delete(q.watchers, s.Ref)
			q.mu.Unlock()
		}
	case SigDown:
		if q := n.lookup(s.To); q != nil {
			t := monitorTarget{pid: s.From}
			if s.ToName != "" {
				t.name = Name{Name: s.ToName, Node: s.From.Node}
			}
			q.deliverDown(s.Ref, t, s.Msg)
		}
	}
}

func (n *Node) target(s Signal) *Process {
	if s.ToName != "" {
		return n.whereisProc(s.ToName)
	}
	return n.lookup(s.To)
}

func (q *Process) addRemoteLink(from Pid) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dead {
		return false
	}
	q.addLinkLocked(from)
	return true
}

// PeerDown is called by the distribution layer when the connection to node
// is gone: every link to a process there fires with reason noconnection,
// every monitor on a process there delivers its DownMsg with noconnection,
// and monitors held from there are forgotten.
func (n *Node) PeerDown(node string) {
	n.procs.Range(func(_, v any) bool {
		p := v.(*Process)
		var linked []Pid
		var downs []Ref
		p.mu.Lock()
		for l := range p.links {
			if l.Node == node {
				linked = append(linked, l)
			}
		}
		for ref, t := range p.monitors {
			if t.pid.Node == node || t.name.Node == node {
				downs = append(downs, ref)
			}
		}
		for ref, w := range p.watchers {
			if w.pid.Node == node {
				delete(p.watchers, ref)
			}
		}
		targets := make([]monitorTarget, len(downs))
		for i, ref := range downs {
			targets[i] = p.monitors[ref]
		}
		p.mu.Unlock()
		for i, ref := range downs {
			p.deliverDown(ref, targets[i], NoConnection)
		}
		for _, l := range linked {
			p.handleExit(l, NoConnection, true)
		}
		return true
	})
}

// SpawnFor starts fn on behalf of a process parent of another node, which
// asked for it (a remote spawn): with link, the new process is linked to
// parent; with a non-zero monitor, parent monitors it under that
// reference. Both are in place before fn runs.
func (n *Node) SpawnFor(parent Pid, link bool, monitor Ref, fn Func, o SpawnOptions) (Pid, error) {
	o.Link, o.Monitor = false, false
	p, _, err := n.start(nil, styleGoroutine, fn, nil, o)
	if err != nil {
		return Pid{}, err
	}
	p.mu.Lock()
	if link {
		p.addLinkLocked(parent)
	}
	if !monitor.IsZero() {
		if p.watchers == nil {
			p.watchers = make(map[Ref]watcher)
		}
		p.watchers[monitor] = watcher{pid: parent}
	}
	p.mu.Unlock()
	go p.run()
	return p.pid, nil
}

// AdoptRemote records, on the spawning side, the link and monitor between
// the local process parent and child, a process another node started for
// it with SpawnFor. If parent has died meanwhile, the other side is told
// to drop them.
func (n *Node) AdoptRemote(parent, child Pid, link bool, monitor Ref) {
	p := n.lookup(parent)
	if p != nil {
		p.mu.Lock()
		if !p.dead {
			if link {
				p.addLinkLocked(child)
			}
			if !monitor.IsZero() {
				if p.monitors == nil {
					p.monitors = make(map[Ref]monitorTarget)
				}
				p.monitors[monitor] = monitorTarget{pid: child}
			}
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	if link {
		_ = n.forward(Signal{Kind: SigExit, From: parent, To: child, Msg: NoProc})
	}
	if !monitor.IsZero() {
		_ = n.forward(Signal{Kind: SigDemonitor, From: parent, To: child, Ref: monitor})
	}
}
