package proc

// The goroutines a process runs on, and how each one's end becomes an exit
// reason: a goroutine-style process owns one for its life; a handler-style
// process holds one only while messages wait (drain), which keeps idle
// processes small.

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
	} else if p.flags.Load()&flagDying == 0 {
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
			if p.flags.Load()&flagDying != 0 {
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
