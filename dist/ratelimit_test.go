//go:build unix

package dist

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand; AfterFunc's functions run
// in Advance, in the order they are due.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, tm := range c.timers {
		if !tm.stopped {
			n++
		}
	}
	return n
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, tm := range c.timers {
		if !tm.stopped && !tm.at.After(c.now) {
			tm.stopped = true
			due = append(due, tm)
		}
	}
	c.mu.Unlock()
	for _, tm := range due {
		tm.f()
	}
}

func TestLogLimiter(t *testing.T) {
	clk := newFakeClock()
	var lines []string
	l := newLogLimiter(func(format string, args ...any) {
		lines = append(lines, fmt.Sprintf(format, args...))
	}, clk, 3, 10*time.Second)
	for i := 1; i <= 1000; i++ {
		l.log("cookie", "refused %d", i)
		if i%2 == 0 {
			l.log("handshake", "failed %d", i)
		}
	}
	want := []string{"refused 1", "refused 2", "failed 2", "refused 3", "failed 4", "failed 6"}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Fatalf("first lines %q, want %q", lines, want)
	}
	clk.Advance(9 * time.Second)
	if len(lines) != len(want) {
		t.Fatalf("lines before the interval ended: %q", lines[len(want):])
	}
	clk.Advance(time.Second)
	got := lines[len(want):]
	slicesSort(got)
	if fmt.Sprint(got) != fmt.Sprint([]string{"failed 1000 (496 more suppressed)", "refused 1000 (996 more suppressed)"}) {
		t.Fatalf("summaries %q", got)
	}
	// A new interval: the burst again, and a quiet reason logs nothing.
	lines = nil
	clk.Advance(time.Minute)
	for i := 1; i <= 5; i++ {
		l.log("cookie", "again %d", i)
	}
	if fmt.Sprint(lines) != "[again 1 again 2 again 3]" {
		t.Fatalf("next interval: %q", lines)
	}
	// The next line after the interval writes the summary first, even if
	// its timer has not run yet.
	clk.mu.Lock()
	clk.now = clk.now.Add(10 * time.Second)
	clk.mu.Unlock()
	l.log("cookie", "later")
	if fmt.Sprint(lines) != "[again 1 again 2 again 3 again 5 (1 more suppressed) later]" {
		t.Fatalf("summary before the next interval's first line: %q", lines)
	}
	if clk.pending() != 0 {
		t.Fatalf("%d timers left running", clk.pending())
	}
	// close writes what is pending and stops the timers; later lines are
	// written as they come.
	lines = nil
	for i := 1; i <= 4; i++ {
		l.log("cookie", "x %d", i)
	}
	l.close()
	if fmt.Sprint(lines) != "[x 1 x 2 x 4 (1 more suppressed)]" {
		t.Fatalf("close: %q", lines)
	}
	if clk.pending() != 0 {
		t.Fatalf("%d timers left running after close", clk.pending())
	}
	l.log("cookie", "after close")
	if lines[len(lines)-1] != "after close" {
		t.Fatalf("after close: %q", lines)
	}
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestFailTracker(t *testing.T) {
	clk := newFakeClock()
	tr := newFailTracker(clk)
	tr.cap = 2
	a := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1000}
	a2 := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 2000} // same IP
	admit := func(addr net.Addr) (time.Duration, bool) {
		w, done, ok := tr.admit(addr)
		done()
		done() // idempotent
		return w, ok
	}
	if w, ok := admit(a); w != 0 || !ok {
		t.Fatalf("no failures yet: %v %v", w, ok)
	}
	tr.failed(a)
	// Turns 10 ms apart, the first 10 ms after the failure.
	var waits []time.Duration
	for _, addr := range []net.Addr{a, a2, a} {
		w, ok := admit(addr)
		if !ok {
			t.Fatal("refused")
		}
		waits = append(waits, w)
	}
	if fmt.Sprint(waits) != "[10ms 20ms 30ms]" {
		t.Fatalf("waits %v", waits)
	}
	// Each failure doubles the spacing.
	clk.Advance(time.Second)
	tr.failed(a2)
	tr.failed(a)
	if w, _ := admit(a); w != 40*time.Millisecond {
		t.Fatalf("after 3 failures: %v", w)
	}
	clk.Advance(time.Second)
	for i := 0; i < 30; i++ {
		tr.failed(a)
	}
	if w, _ := admit(a); w != failPenaltyMax {
		t.Fatalf("after many failures: %v, want the bound %v", w, failPenaltyMax)
	}
	// A connection that would queue longer than failQueueMax is closed.
	if w, ok := admit(a); ok || w <= failQueueMax {
		t.Fatalf("over the queue: %v %v", w, ok)
	}
	// At most hold connections wait at once.
	clk.Advance(time.Minute - 2*time.Second)
	tr.failed(a)
	tr.hold = 2
	tr.maxQueue = time.Hour
	_, d1, ok1 := tr.admit(a)
	_, d2, ok2 := tr.admit(a)
	if _, _, ok := tr.admit(a); !ok1 || !ok2 || ok {
		t.Fatalf("hold cap: %v %v %v", ok1, ok2, ok)
	}
	d1()
	if _, d3, ok := tr.admit(a); !ok {
		t.Fatal("no room after a release")
	} else {
		d3()
	}
	d2()
	// Another address is not delayed.
	b := &net.TCPAddr{IP: net.IPv4(198, 51, 100, 7), Port: 1}
	if w, ok := admit(b); w != 0 || !ok {
		t.Fatalf("other address: %v %v", w, ok)
	}
	// Failures are forgotten after failMemory.
	clk.Advance(failMemory)
	if w, ok := admit(a); w != 0 || !ok {
		t.Fatalf("after %v: %v %v", failMemory, w, ok)
	}
	// The table is bounded.
	for i := 0; i < 10; i++ {
		tr.failed(&net.TCPAddr{IP: net.IPv4(203, 0, 113, byte(i)), Port: 1})
	}
	if len(tr.addrs) > tr.cap {
		t.Fatalf("%d addresses remembered, cap %d", len(tr.addrs), tr.cap)
	}
	if w, _ := admit(&net.TCPAddr{IP: net.IPv4(203, 0, 113, 9), Port: 1}); w != failPenaltyBase {
		t.Fatalf("the newest address was evicted: %v", w)
	}
}
