package global

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gonode/gonode/proc"
)

// operation is a register or unregister this server coordinates.
type operation struct {
	req     *request
	ref     proc.Ref        // this attempt's; a retry gets a new one
	phase   phase           // where it is
	asked   []string        // the participants a claim went to (for aborts)
	waiting map[string]bool // the participants whose answer is awaited
	retryAt time.Time       // phaseBackoff: when to claim again
	tries   int
}

type phase uint8

const (
	phaseClaim   phase = iota + 1 // waiting for claimed answers
	phaseBackoff                  // a concurrent claim: waiting to try again
	phaseCommit                   // decided: waiting for acknowledgements
)

// start begins an operation asked for by the API.
func (st *state) start(r *request) {
	if !time.Now().Before(r.deadline) {
		var cause error = context.DeadlineExceeded
		if !r.ctxDeadline {
			cause = errors.New("Options.Timeout passed")
		}
		r.reply <- fmt.Errorf("%w: %q: the deadline had passed before the server got to it (%w)", ErrTimeout, r.name, cause)
		return
	}
	op := &operation{req: r}
	if r.kind == opUnregister {
		e, ok := st.names[r.name]
		if !ok {
			r.reply <- nil
			return
		}
		st.remove(r.name)
		st.bury(r.name, e)
		op.ref, op.phase = st.p.Node().MakeRef(), phaseCommit
		op.waiting = st.tellAll([]any{tagUnreg, op.ref, r.name, e.pid})
		st.ops[op.ref] = op
		st.progress(op)
		return
	}
	st.claimAll(op)
}

// claimAll starts (or restarts) a registration: local checks and
// reservation, then a claim to every participant.
func (st *state) claimAll(op *operation) {
	r := op.req
	if e, ok := st.names[r.name]; ok {
		if e.pid == r.pid {
			st.finish(op, nil)
		} else {
			st.finish(op, fmt.Errorf("%w: %q is held by %v", ErrNameTaken, r.name, e.pid))
		}
		return
	}
	if r.pid.Node == st.self {
		if !st.p.Node().Alive(r.pid) {
			st.finish(op, fmt.Errorf("%w: %v", ErrNoProc, r.pid))
			return
		}
	} else if _, ok := st.peers[r.pid.Node]; !ok {
		st.finish(op, fmt.Errorf("%w: %v: its node %s is not connected, or runs no name server", ErrNoProc, r.pid, r.pid.Node))
		return
	}
	if _, busy := st.reserved[r.name]; busy {
		st.backoff(op)
		return
	}
	op.ref, op.phase = st.p.Node().MakeRef(), phaseClaim
	st.ops[op.ref] = op
	st.reserved[r.name] = reservation{ref: op.ref, node: st.self, expires: r.deadline}
	op.waiting = st.tellAll([]any{tagClaim, op.ref, r.name, r.pid, st.p.Pid()})
	op.asked = make([]string, 0, len(op.waiting))
	for n := range op.waiting {
		op.asked = append(op.asked, n)
	}
	st.progress(op)
}

// tellAll sends m to every participant and returns them.
func (st *state) tellAll(m []any) map[string]bool {
	w := make(map[string]bool, len(st.peers))
	for n, p := range st.peers {
		_ = st.p.Send(p.server, m)
		w[n] = true
	}
	return w
}

// claim answers a coordinator's claim (the participant's side).
func (st *state) claim(m msg) {
	reply := func(status proc.Atom, holder proc.Pid) {
		_ = st.p.Send(m.from, []any{tagClaimed, m.ref, st.self, status, holder})
	}
	if e, ok := st.names[m.name]; ok && e.pid != m.pid {
		reply(statusTaken, e.pid)
		return
	}
	if r, ok := st.reserved[m.name]; ok && r.ref != m.ref {
		reply(statusBusy, proc.Pid{})
		return
	}
	if m.pid.Node == st.self && !st.p.Node().Alive(m.pid) {
		reply(statusNoProc, proc.Pid{})
		return
	}
	// The coordinator commits or aborts within its deadline, or its node
	// goes; the expiry only guards against a coordinator gone silent.
	st.reserved[m.name] = reservation{ref: m.ref, node: m.from.Node, expires: time.Now().Add(reservationTTL)}
	reply(statusOK, proc.Pid{})
}

// answer takes a participant's answer to one of our operations.
func (st *state) answer(m msg) {
	op, ok := st.ops[m.ref]
	if !ok || !op.waiting[m.node] {
		return // an operation that ended, or a node we stopped waiting for
	}
	delete(op.waiting, m.node)
	if m.tag == tagClaimed && op.phase == phaseClaim {
		switch m.status {
		case statusOK:
		case statusTaken:
			st.abort(op)
			st.finish(op, fmt.Errorf("%w: %q is held by %v (says %s)", ErrNameTaken, op.req.name, m.pid, m.node))
			return
		case statusNoProc:
			st.abort(op)
			st.finish(op, fmt.Errorf("%w: %v (says %s)", ErrNoProc, op.req.pid, m.node))
			return
		default: // busy, or a status a later version added
			st.abort(op)
			st.backoff(op)
			return
		}
	}
	st.progress(op)
}

// progress moves an operation on when nobody is left to wait for.
func (st *state) progress(op *operation) {
	if len(op.waiting) > 0 {
		return
	}
	switch op.phase {
	case phaseClaim:
		st.commit(op)
	case phaseCommit:
		st.finish(op, nil)
	}
}

// commit decides a registration: store it here, then everywhere.
func (st *state) commit(op *operation) {
	r := op.req
	delete(st.reserved, r.name)
	e := entry{pid: r.pid, at: time.Now().UnixNano(), resolve: st.s.opts.Resolve}
	if cur, ok := st.names[r.name]; ok && cur.pid != r.pid {
		// A sync brought a holder while we claimed: it was first.
		st.abort(op)
		st.finish(op, fmt.Errorf("%w: %q is held by %v", ErrNameTaken, r.name, cur.pid))
		return
	}
	st.put(r.name, e)
	op.phase = phaseCommit
	op.waiting = st.tellAll([]any{tagCommit, op.ref, r.name, r.pid, e.at, int64(e.resolve)})
	st.progress(op)
}

// abort releases the reservations of the current attempt.
func (st *state) abort(op *operation) {
	if rv, ok := st.reserved[op.req.name]; ok && rv.ref == op.ref {
		delete(st.reserved, op.req.name)
	}
	for _, n := range op.asked {
		st.send(n, []any{tagAbort, op.ref, op.req.name})
	}
	op.asked, op.waiting = nil, nil
}

// backoff waits a random while (1 ms doubling, at most 64 ms) before
// claiming again, so that two coordinators claiming one name at once do
// not collide again.
func (st *state) backoff(op *operation) {
	delete(st.ops, op.ref)
	op.tries++
	d := time.Duration(1+rand.IntN(1<<min(op.tries, 6))) * time.Millisecond
	op.phase, op.retryAt = phaseBackoff, time.Now().Add(d)
	op.ref = st.p.Node().MakeRef()
	st.ops[op.ref] = op
}

// finish answers the caller and forgets the operation.
func (st *state) finish(op *operation, err error) {
	delete(st.ops, op.ref)
	op.req.reply <- err
}

// cancel: the caller gave up. An operation not decided yet is abandoned;
// a decided one is reported as done.
func (st *state) cancel(c cancel) {
	for _, op := range st.ops {
		if op.req.reply != c.reply {
			continue
		}
		if op.phase == phaseCommit {
			st.finish(op, nil)
			return
		}
		err := st.timeout(op, c.err)
		if op.phase == phaseClaim {
			st.abort(op)
		}
		st.finish(op, err)
		return
	}
}

func (st *state) timeout(op *operation, cause error) error {
	silent := make([]string, 0, len(op.waiting))
	for n := range op.waiting {
		silent = append(silent, n)
	}
	slices.Sort(silent)
	what := "registering"
	if op.req.kind == opUnregister {
		what = "unregistering"
	}
	if cause == nil && op.req.ctxDeadline {
		cause = context.DeadlineExceeded
	} else if cause == nil {
		cause = errors.New("Options.Timeout passed")
	}
	return fmt.Errorf("%w: %s %q: no answer from %v (%w)", ErrTimeout, what, op.req.name, silent, cause)
}

// nextWake is the earliest timer: an operation's deadline or retry, a
// reservation's expiry.
func (st *state) nextWake() (time.Time, bool) {
	var t time.Time
	early := func(u time.Time) {
		if t.IsZero() || u.Before(t) {
			t = u
		}
	}
	for _, op := range st.ops {
		early(op.req.deadline)
		if op.phase == phaseBackoff {
			early(op.retryAt)
		}
	}
	for _, r := range st.reserved {
		early(r.expires)
	}
	if !st.nextSweep.IsZero() {
		early(st.nextSweep)
	}
	return t, !t.IsZero()
}

// expire fires the timers due at now.
func (st *state) expire(now time.Time) {
	if !st.nextSweep.IsZero() && !now.Before(st.nextSweep) {
		st.sweep(now)
	}
	for name, r := range st.reserved {
		if !now.Before(r.expires) && (r.node != st.self || st.ops[r.ref] == nil) {
			delete(st.reserved, name)
		}
	}
	for _, op := range st.ops {
		switch {
		case !now.Before(op.req.deadline):
			if op.phase == phaseCommit {
				st.finish(op, nil) // decided; the silent ones get it when they answer or sync
				continue
			}
			err := st.timeout(op, nil)
			if op.phase == phaseClaim {
				st.abort(op)
			}
			st.finish(op, err)
		case op.phase == phaseBackoff && !now.Before(op.retryAt):
			delete(st.ops, op.ref)
			st.claimAll(op)
		}
	}
}
