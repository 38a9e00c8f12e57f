package discovery_test

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// watcher holds every node's last State and the waits on them. update is
// called by the nodes' readers, Wait by the test.
type watcher struct {
	mu      sync.Mutex
	states  map[string]State // guarded by mu: by node name
	waiters []*waiter        // guarded by mu: the waits under way
	events  []Event          // guarded by mu: every update, in the order received
}

// Event is one node's new state, as of At.
type Event struct {
	Node  string
	At    time.Time
	State State
}

type waiter struct {
	cond func(map[string]State) bool
	at   chan time.Time // 1-buffered: the time cond first held
}

func (w *watcher) init() {
	w.states = make(map[string]State)
}

// update records node's state as of at, and ends the waits whose
// condition now holds with that time.
func (w *watcher) update(node string, s State, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.states[node] = s
	w.events = append(w.events, Event{node, at, s})
	w.waiters = slices.DeleteFunc(w.waiters, func(wt *waiter) bool {
		if wt.cond(w.states) {
			wt.at <- at
			return true
		}
		return false
	})
}

func (w *watcher) snapshot() map[string]State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.states)
}

// Events returns every state change so far, in the order received (which
// may differ by milliseconds from the order of their times between
// nodes).
func (l *Lab) Events() []Event {
	l.watch.mu.Lock()
	defer l.watch.mu.Unlock()
	return slices.Clone(l.watch.events)
}

// Wait waits until cond holds for the nodes' states (by node name; a node
// never started is missing) and returns the time it first did: the time
// the node whose line made it hold printed that line. cond must not keep
// or change the map. If cond does not hold within timeout, the test
// fails, describing what was awaited and every node.
func (l *Lab) Wait(timeout time.Duration, what string, cond func(map[string]State) bool) time.Time {
	l.t.Helper()
	at, ok := l.TryWait(timeout, cond)
	if !ok {
		l.t.Fatalf("netlab: after %v, still waiting for %s:%s", timeout, what, l.dump())
	}
	return at
}

// TryWait is Wait that reports a timeout instead of failing the test.
func (l *Lab) TryWait(timeout time.Duration, cond func(map[string]State) bool) (time.Time, bool) {
	w := &l.watch
	wt := &waiter{cond: cond, at: make(chan time.Time, 1)}
	w.mu.Lock()
	if cond(w.states) {
		w.mu.Unlock()
		return time.Now(), true
	}
	w.waiters = append(w.waiters, wt)
	w.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case at := <-wt.at:
		return at, true
	case <-timer.C:
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waiters = slices.DeleteFunc(w.waiters, func(x *waiter) bool { return x == wt })
	select {
	case at := <-wt.at: // it held just as the time ran out
		return at, true
	default:
		return time.Time{}, false
	}
}
