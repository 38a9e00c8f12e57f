package dist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// Defaults of the accept side's defences against hostile or broken peers.
const (
	// logBurst lines of one reason are written per logInterval; the rest
	// are counted and reported in one line when the interval ends.
	logBurst    = 5
	logInterval = 10 * time.Second

	// After a wrong cookie from an IP, its next connections wait their
	// turn, turns spaced by failPenaltyBase doubled for each recent failure,
	// at most failPenaltyMax; failures older than failMemory are forgotten.
	// A connection that would wait more than failQueueMax, or find
	// maxPenalized waiting already, is closed at once; failures are
	// remembered for at most maxFailAddrs addresses. So the defence itself
	// costs bounded memory and files.
	failPenaltyBase = 10 * time.Millisecond
	failPenaltyMax  = 2 * time.Second
	failQueueMax    = 3 * time.Second
	failMemory      = time.Minute
	maxPenalized    = 64
	maxFailAddrs    = 4096

	// The accept loop backs off on errors as net/http's Server does.
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// clock is what the limiters need of time, so that tests drive it.
type clock interface {
	Now() time.Time
	// AfterFunc runs f after d in its own goroutine; the result stops it.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// logLimiter writes at most burst lines per interval for each reason; the
// lines over that are counted, and when the interval ends the last of them
// is written with " (K more suppressed)" appended, K being the others. So
// a flood of one kind of event costs at most burst+1 lines per interval,
// and every event is accounted for.
type logLimiter struct {
	logf     func(string, ...any)
	clk      clock
	burst    int
	interval time.Duration

	mu      sync.Mutex
	closed  bool
	reasons map[string]*logWindow
}

type logWindow struct {
	start      time.Time
	written    int
	suppressed int    // lines not written in this window
	last       string // the last of them
	stop       func() bool
}

func newLogLimiter(logf func(string, ...any), clk clock, burst int, interval time.Duration) *logLimiter {
	return &logLimiter{logf: logf, clk: clk, burst: burst, interval: interval, reasons: make(map[string]*logWindow)}
}

// logf writes the line unless reason has had its burst in this interval.
func (l *logLimiter) log(reason, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		l.logf(format, args...)
		return
	}
	now := l.clk.Now()
	w := l.reasons[reason]
	if w == nil || now.Sub(w.start) >= l.interval {
		if w != nil {
			l.flushLocked(reason, w)
		}
		w = &logWindow{start: now}
		l.reasons[reason] = w
	}
	if w.written < l.burst {
		w.written++
		l.logf(format, args...)
		return
	}
	w.suppressed++
	w.last = fmt.Sprintf(format, args...)
	if w.stop == nil {
		w.stop = l.clk.AfterFunc(w.start.Add(l.interval).Sub(now), func() { l.expire(reason, w) })
	}
}

// expire ends window w of reason if it is still the current one.
func (l *logLimiter) expire(reason string, w *logWindow) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.reasons[reason] != w {
		return
	}
	l.flushLocked(reason, w)
	delete(l.reasons, reason)
}

// flushLocked writes what window w suppressed, if anything.
func (l *logLimiter) flushLocked(reason string, w *logWindow) {
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	if w.suppressed > 0 {
		l.logf("%s (%d more suppressed)", w.last, w.suppressed-1)
		w.suppressed = 0
	}
}

// close writes what is still suppressed and stops the timers; lines logged
// afterwards are written as they come.
func (l *logLimiter) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	for reason, w := range l.reasons {
		l.flushLocked(reason, w)
	}
	clear(l.reasons)
}

// failTracker slows wrong-cookie attempts from one address. The wire
// handshake tells a peer at once that its digest was wrong, so the wait
// comes before the next attempt instead: once an IP has failed, each new
// connection from it waits its turn before its handshake starts, turns
// spaced by a penalty that doubles with each recent failure (bounded). A
// client trying cookies one after another is held to a few tries a second
// at most instead of thousands; one trying them in parallel queues up
// behind itself, and what would queue longer than maxQueue, or beyond
// hold connections waiting in all, is closed at once. Addresses that have
// not failed are never delayed, and failures are forgotten after mem.
type failTracker struct {
	clk      clock
	base     time.Duration
	max      time.Duration
	mem      time.Duration
	maxQueue time.Duration
	cap      int // addresses remembered
	hold     int // connections waiting at once

	mu      sync.Mutex
	addrs   map[string]*failRecord
	holding int
}

type failRecord struct {
	failures int
	penalty  time.Duration // the spacing of turns
	last     time.Time     // of the last failure
	next     time.Time     // the next free turn
}

func newFailTracker(clk clock) *failTracker {
	return &failTracker{
		clk: clk, base: failPenaltyBase, max: failPenaltyMax, mem: failMemory, maxQueue: failQueueMax,
		cap: maxFailAddrs, hold: maxPenalized, addrs: make(map[string]*failRecord),
	}
}

// failed records a wrong cookie from addr.
func (t *failTracker) failed(addr net.Addr) {
	ip := addrIP(addr)
	now := t.clk.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.recordLocked(ip, now)
	if r == nil {
		if len(t.addrs) >= t.cap {
			t.evictLocked(now)
		}
		r = &failRecord{}
		t.addrs[ip] = r
	}
	r.failures++
	r.last = now
	r.penalty = t.base
	for i := 1; i < r.failures && r.penalty < t.max; i++ {
		r.penalty *= 2
	}
	r.penalty = min(r.penalty, t.max)
	if n := now.Add(r.penalty); n.After(r.next) {
		r.next = n
	}
}

// recordLocked is ip's record if its failures are still remembered.
func (t *failTracker) recordLocked(ip string, now time.Time) *failRecord {
	r := t.addrs[ip]
	if r != nil && now.Sub(r.last) >= t.mem {
		delete(t.addrs, ip)
		return nil
	}
	return r
}

// admit tells how long a new connection from addr waits before its
// handshake, and the function to call once it has waited; ok is false if
// the connection must be closed at once.
func (t *failTracker) admit(addr net.Addr) (wait time.Duration, done func(), ok bool) {
	ip := addrIP(addr)
	now := t.clk.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.recordLocked(ip, now)
	if r == nil {
		return 0, func() {}, true
	}
	turn := r.next
	if turn.Before(now) {
		turn = now
	}
	wait = turn.Sub(now)
	if wait > t.maxQueue || (wait > 0 && t.holding >= t.hold) {
		return wait, func() {}, false
	}
	r.next = turn.Add(r.penalty)
	if wait == 0 {
		return 0, func() {}, true
	}
	t.holding++
	var once sync.Once
	return wait, func() {
		once.Do(func() {
			t.mu.Lock()
			t.holding--
			t.mu.Unlock()
		})
	}, true
}

// evictLocked makes room for one address: the expired ones go, or else the
// one whose last failure is oldest.
func (t *failTracker) evictLocked(now time.Time) {
	oldest, oldestAt := "", time.Time{}
	for ip, r := range t.addrs {
		if now.Sub(r.last) >= t.mem {
			delete(t.addrs, ip)
			continue
		}
		if oldest == "" || r.last.Before(oldestAt) {
			oldest, oldestAt = ip, r.last
		}
	}
	if len(t.addrs) >= t.cap {
		delete(t.addrs, oldest)
	}
}

// addrIP is the IP of a TCP address, the whole address otherwise.
func addrIP(a net.Addr) string {
	if a == nil {
		return ""
	}
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	if host, _, err := net.SplitHostPort(a.String()); err == nil {
		return host
	}
	return a.String()
}

// acceptGuard is the accept side's state against hostile peers: the log
// limiter for refused peers and the tracker of failed handshakes. The
// accept loop makes one and closes it when it is done.
type acceptGuard struct {
	logs  *logLimiter
	fails *failTracker
}

func newAcceptGuard(logf func(string, ...any), clk clock) *acceptGuard {
	return &acceptGuard{
		logs:  newLogLimiter(logf, clk, logBurst, logInterval),
		fails: newFailTracker(clk),
	}
}

func (g *acceptGuard) close() { g.logs.close() }

// admit makes a new connection wait its turn if its address recently
// failed the cookie check (see failTracker); false means nc was closed,
// because it would wait too long or the node is closing.
func (g *acceptGuard) admit(ctx context.Context, nc net.Conn) bool {
	wait, done, ok := g.fails.admit(nc.RemoteAddr())
	if !ok {
		nc.Close()
		g.logs.log("throttled", "dist: connection from %s closed: too many recent wrong-cookie attempts from its address", nc.RemoteAddr())
		return false
	}
	defer done()
	if wait == 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		nc.Close()
		return false
	}
}

// failed counts a failed handshake from addr against it if it was a wrong
// cookie: other failures (garbage, a peer gone away, a refusal by the rules
// of simultaneous connects) tell an attacker nothing.
func (g *acceptGuard) failed(addr net.Addr, err error) {
	if errors.Is(err, wire.ErrBadCookie) {
		g.fails.failed(addr)
	}
}
