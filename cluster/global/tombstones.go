package global

import (
	"time"
)

// A name removed on purpose (Unregister, or the loser's in a conflict) is
// remembered for a while as its holder and registration time: a replica
// that missed the removal (one cut off from the coordinator while the
// holder stayed reachable from it, in a partial partition; one that had
// not answered by the deadline) would otherwise give the name back in its
// next sync. A sync entry matching a tombstone is not taken, and its
// sender is told to drop it. A new registration has a new time, so a
// tombstone never blocks one.

// tomb is a removed registration.
type tomb struct {
	entry // pid and at; the monitor is gone
	until time.Time
}

// maxTombstones bounds the memory tombstones take; past it, removals are
// not remembered (the worst case is then the name coming back, as without
// them).
const maxTombstones = 100_000

// bury remembers a removed registration for Options.ForgetAfter: after
// that the reconnector stops dialling the peers that may still hold it.
func (st *state) bury(name string, e entry) {
	now := time.Now()
	if len(st.tombs) >= maxTombstones {
		st.sweep(now)
		if len(st.tombs) >= maxTombstones {
			return
		}
	}
	st.tombs[name] = tomb{entry: entry{pid: e.pid, at: e.at}, until: now.Add(st.s.opts.ForgetAfter)}
	if st.nextSweep.IsZero() {
		st.nextSweep = now.Add(st.s.opts.ForgetAfter / 4)
	}
}

// buried reports whether e is a registration removed on purpose here.
func (st *state) buried(name string, e entry) bool {
	t, ok := st.tombs[name]
	return ok && t.pid == e.pid && t.at == e.at
}

// sweep forgets the tombstones past their time, in one pass every quarter
// of their life rather than one timer each.
func (st *state) sweep(now time.Time) {
	for name, t := range st.tombs {
		if !now.Before(t.until) {
			delete(st.tombs, name)
		}
	}
	st.nextSweep = time.Time{}
	if len(st.tombs) > 0 {
		st.nextSweep = now.Add(st.s.opts.ForgetAfter / 4)
	}
}
