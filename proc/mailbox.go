package proc

import (
	"context"
	"time"
)

// The mailbox is two queues. Senders append to incoming under the process
// lock; the owner moves incoming into its private inbox in one step when the
// inbox has nothing it wants, so a receiver that keeps up takes the lock
// once per batch rather than once per message. Selective receive scans the
// inbox in order and removes only the match, so the other messages keep
// their order. Messages from one sender are appended in the order they were
// sent, which keeps Erlang's per-pair ordering.

// deliver puts msg in the mailbox of a living process.
//
// A CallReply is let in only while the call it answers is waiting: while
// its Ref is a monitor the process holds (Call monitors the callee under
// the call's Ref and drops the monitor when it returns, under this same
// lock). A reply that comes after its Call timed out is dropped here, as
// OTP's gen:call drops it with the alias that it deactivates with the
// monitor. The test costs other messages one type comparison, and needs
// no memory of finished calls.
func (p *Process) deliver(msg any) {
	if p.flags.Load()&flagTraced != 0 {
		p.traceReceive(msg) // before the owner can see it, so that its reply is reported after
	}
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return
	}
	if _, ok := msg.(CallReply); ok {
		if p.staleReplyLocked(msg) {
			p.mu.Unlock()
			return
		}
	} else if w := p.node.mailboxWarn.Load(); w != nil || p.limit.max > 0 {
		p.deliverLimited(msg, w)
		return
	}
	k := p.pushLocked(msg)
	p.mu.Unlock()
	p.kick(k)
}

// deliverLimited is deliver for a process with a mailbox limit or on a
// node with a mailbox warning, with p.mu held; it unlocks. It reports
// whether the message was delivered.
//
//go:noinline
func (p *Process) deliverLimited(msg any, w *mailboxWarning) bool {
	ok, kill, warnAt := p.mailboxCheckLocked(w)
	var k kick
	if ok {
		k = p.pushLocked(msg)
	}
	p.mu.Unlock()
	if warnAt > 0 {
		w.f(p.pid, warnAt)
	}
	if kill {
		p.die(MailboxFull)
	}
	p.kick(k)
	return ok
}

// staleReplyLocked reports whether the CallReply msg answers no call that
// is still waiting. Called with mu held.
//
//go:noinline
func (p *Process) staleReplyLocked(msg any) bool {
	_, waiting := p.monitors[msg.(CallReply).Ref]
	return !waiting
}

// kick says what must follow a message put in a mailbox, once the lock is
// released: wake the owner blocked in receive, or (handler style) start a
// goroutine to drain the mailbox.
type kick uint8

const (
	kickWake kick = 1 << iota
	kickDrain
)

// pushLocked appends msg to the mailbox with mu held and returns what the
// caller must do after unlocking (p.kick). Doing that outside the lock keeps
// lock hold times short and the stack of the caller shallow.
func (p *Process) pushLocked(msg any) kick {
	p.incoming = append(p.incoming, msg)
	var k kick
	if p.waiting {
		p.waiting = false
		k |= kickWake
	}
	if p.style == styleHandler && !p.scheduled {
		p.scheduled = true
		p.node.wg.Add(1) // the process holds a count while alive, so this never races Wait at zero
		k |= kickDrain
	}
	return k
}

// kick wakes or schedules the owner as pushLocked asked. p.wake is set
// whenever kickWake is: the owner made it before it set waiting.
func (p *Process) kick(k kick) {
	if k&kickWake != 0 {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	if k&kickDrain != 0 {
		go p.drain()
	}
}

// Receive blocks until a message arrives and returns it. It returns early
// with ctx.Err() when ctx is done (a nil ctx never is).
func (p *Process) Receive(ctx context.Context) (any, error) {
	return p.receive(ctx, nil, nil)
}

// ReceiveTimeout waits at most d for a message (Erlang's receive ... after d).
// It returns ErrTimeout when none came; d <= 0 only looks.
func (p *Process) ReceiveTimeout(d time.Duration) (any, error) {
	return p.ReceiveMatchTimeout(d, nil)
}

// ReceiveMatch returns the first message, in mailbox order, for which match
// returns true, leaving the others where they were. A nil match takes any.
func (p *Process) ReceiveMatch(ctx context.Context, match func(any) bool) (any, error) {
	return p.receive(ctx, nil, match)
}

// ReceiveMatchTimeout is ReceiveMatch with a timeout instead of a context.
func (p *Process) ReceiveMatchTimeout(d time.Duration, match func(any) bool) (any, error) {
	if d <= 0 || p.style == styleHandler {
		return p.receive(nil, expired, match)
	}
	// One timer per process, reset for each wait: since Go 1.23 a Reset or
	// Stop timer delivers nothing stale on its channel.
	t := p.timer
	if t == nil {
		t = time.NewTimer(d)
		p.timer = t
	} else {
		t.Reset(d)
	}
	defer t.Stop()
	return p.receive(nil, t.C, match)
}

// expired is a timer channel that has already fired.
var expired = func() <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Time{}
	return c
}()

// receive is every receive's loop. Only the owner calls it.
func (p *Process) receive(ctx context.Context, timeout <-chan time.Time, match func(any) bool) (any, error) {
	if p.style == styleHandler {
		return nil, ErrNotHandlerStyle
	}
	if err := p.checkAlive(); err != nil {
		return nil, err
	}
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	skip := 0 // messages after head already refused by match
	for {
		if m, ok := p.take(&skip, match); ok {
			return m, nil
		}
		p.mu.Lock()
		if p.dead {
			p.mu.Unlock()
			return nil, p.checkAlive()
		}
		if len(p.incoming) > 0 {
			p.pullLocked()
			p.mu.Unlock()
			continue
		}
		if timeout == expired {
			p.mu.Unlock()
			return nil, ErrTimeout
		}
		if p.wake == nil {
			p.wake = make(chan struct{}, 1)
		}
		p.waiting = true
		p.mu.Unlock()
		if done == nil && timeout == nil {
			// Nothing else to wait for: a plain receive is cheaper than a
			// select, and keeps an idle process's stack short.
			<-p.wake
			continue
		}
		select {
		case <-p.wake:
			continue
		case <-done:
		case <-timeout:
		}
		p.mu.Lock()
		p.waiting = false
		p.mu.Unlock()
		if ctx != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ErrTimeout
	}
}

// take removes and returns the first inbox message after the *skip ones
// (counted from head) that match already refused, and counts the newly
// refused ones into *skip. Counting from head keeps *skip valid when
// pullLocked moves or swaps the buffers.
func (p *Process) take(skip *int, match func(any) bool) (any, bool) {
	for i := p.head + *skip; i < len(p.inbox); i++ {
		m := p.inbox[i]
		if match != nil && !match(m) {
			continue
		}
		if i == p.head {
			p.inbox[i] = nil
			p.head++
		} else {
			copy(p.inbox[i:], p.inbox[i+1:])
			p.inbox[len(p.inbox)-1] = nil
			p.inbox = p.inbox[:len(p.inbox)-1]
			*skip = i - p.head
		}
		p.inboxLen.Store(int64(len(p.inbox) - p.head))
		return m, true
	}
	*skip = len(p.inbox) - p.head
	return nil, false
}

// pullLocked moves incoming into the inbox. Called with mu held.
func (p *Process) pullLocked() {
	if p.head == len(p.inbox) {
		// The inbox is used up: swap the buffers instead of copying.
		old := p.inbox[:0]
		p.inbox, p.incoming = p.incoming, old
		p.head = 0
	} else {
		if p.head > 0 && p.head >= len(p.inbox)/2 {
			n := copy(p.inbox, p.inbox[p.head:])
			clear(p.inbox[n:])
			p.inbox = p.inbox[:n]
			p.head = 0
		}
		p.inbox = append(p.inbox, p.incoming...)
		clear(p.incoming)
		p.incoming = p.incoming[:0]
	}
	p.inboxLen.Store(int64(len(p.inbox) - p.head))
}

// Flush empties the mailbox and returns what was in it, in order (iex's
// flush()).
func (p *Process) Flush() []any {
	if p.style == styleHandler {
		return nil
	}
	p.mu.Lock()
	p.pullLocked()
	p.mu.Unlock()
	out := append([]any(nil), p.inbox[p.head:]...)
	clear(p.inbox)
	p.inbox = p.inbox[:0]
	p.head = 0
	p.inboxLen.Store(0)
	return out
}

// removeMatching drops waiting messages that match (for demonitor's flush).
// Only the owner calls it. In a handler-style process, the owner is the
// handler, called by drain: the messages still waiting are those after
// head in the inbox, and in incoming.
func (p *Process) removeMatching(match func(any) bool) {
	p.mu.Lock()
	p.pullLocked()
	p.mu.Unlock()
	kept := p.inbox[:p.head]
	for _, m := range p.inbox[p.head:] {
		if !match(m) {
			kept = append(kept, m)
		}
	}
	clear(p.inbox[len(kept):])
	p.inbox = kept
	p.inboxLen.Store(int64(len(p.inbox) - p.head))
}

// MessageQueueLen returns the number of messages waiting.
func (p *Process) MessageQueueLen() int {
	p.mu.Lock()
	n := len(p.incoming)
	p.mu.Unlock()
	return n + int(p.inboxLen.Load())
}
