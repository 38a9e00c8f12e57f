package epmd

import (
	"net"
	"strings"
	"testing"
	"time"
)

// holdConns opens n connections to addr that never send anything; the
// test's cleanup closes them.
func holdConns(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	held := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		held = append(held, c)
	}
	return held
}

func (s *Server) counts() (conns, pending int, shed, refused uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns), len(s.pending), s.shed, s.refused
}

// countLogs counts the recorded lines that contain substr.
func (l *logRecorder) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

// TestShedIdleAtCap: at the cap, each new connection takes the place of
// the oldest idle one (idleAfter 0: every connection that has not sent its
// request counts as idle), so 100 held connections over a cap of 20 do not
// keep out lookups, NAMES or a registration, and never cost a registered
// node its name.
func TestShedIdleAtCap(t *testing.T) {
	s, addr, logs := startServer(t, func(s *Server) {
		s.maxConns = 20
		s.idleAfter = 0
	})
	good, err := Register(testCtx(t), addr, "good", 7000, false)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	const held = 100
	holdConns(t, addr, held)
	// The server tracks a connection when it accepts it; wait until it has
	// taken all of them (1 registered + held, less those shed).
	waitFor(t, "the held connections to be accepted", func() bool {
		conns, _, shed, _ := s.counts()
		return uint64(conns)+shed == 1+held
	})
	if conns, _, shed, refused := s.counts(); conns > s.maxConns || shed != 1+held-20 || refused != 0 {
		t.Fatalf("%d connections open (cap %d), %d shed, %d refused", conns, s.maxConns, shed, refused)
	}

	if port, err := LookupPort(testCtx(t), addr, "good"); err != nil || port != 7000 {
		t.Fatalf("lookup at the cap: %d %v", port, err)
	}
	if names := namesOf(t, addr); names == nil || names["good"] != 7000 {
		t.Fatalf("NAMES at the cap: %v", names)
	}
	other, err := Register(testCtx(t), addr, "other", 7001, false)
	if err != nil {
		t.Fatalf("registering at the cap: %v", err)
	}
	defer other.Close()
	// Register again a few times: registered connections are never shed,
	// so the held ones are the ones to go, and good stays registered.
	for i := 0; i < 30; i++ {
		if _, err := LookupPort(testCtx(t), addr, "other"); err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
	}
	names := namesOf(t, addr)
	if names["good"] != 7000 || names["other"] != 7001 {
		t.Fatalf("names after shedding: %v", names)
	}
	select {
	case <-good.Done():
		t.Fatal("the registration of good was dropped")
	default:
	}
	// Shedding is logged on the 1st, 2nd, 4th, ... time only.
	_, _, shed, _ := s.counts()
	if n := logs.count("idle for"); n < 1 || uint64(1)<<(n-1) > shed || shed >= uint64(1)<<n {
		t.Fatalf("%d log lines for %d connections shed", n, shed)
	}
}

// TestRefuseWhenNoneIdle: at the cap, with no connection idle long enough
// (idleAfter an hour), a new connection is refused and the held ones stay.
func TestRefuseWhenNoneIdle(t *testing.T) {
	s, addr, logs := startServer(t, func(s *Server) {
		s.maxConns = 10
		s.idleAfter = time.Hour
	})
	holdConns(t, addr, 10)
	waitFor(t, "the held connections to be accepted", func() bool {
		conns, _, _, _ := s.counts()
		return conns == 10
	})
	if _, err := LookupPort(testCtx(t), addr, "x"); err == nil {
		t.Fatal("a lookup was served over the cap with nothing idle")
	}
	if conns, pending, shed, refused := s.counts(); conns != 10 || pending != 10 || shed != 0 || refused != 1 {
		t.Fatalf("conns %d pending %d shed %d refused %d", conns, pending, shed, refused)
	}
	if !logs.has("none idle") {
		t.Fatal("the refusal was not logged")
	}
}

// TestHeldConnectionsDoNotBlockRequests: 5,000 connections held open on a
// port mapper with its default cap (4,096) and idle time: a node can still
// register and look names up, within a moment instead of waiting for the
// held connections' 10 s request time-out.
func TestHeldConnectionsDoNotBlockRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 5,000 connections")
	}
	s, addr, _ := startServer(t, nil)
	good, err := Register(testCtx(t), addr, "good", 7000, false)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	holdConns(t, addr, 5000)
	start := time.Now()
	var reg *Registration
	waitFor(t, "a registration with 5,000 connections held", func() bool {
		reg, err = Register(testCtx(t), addr, "late", 7001, false)
		return err == nil
	})
	defer reg.Close()
	waitFor(t, "a lookup with 5,000 connections held", func() bool {
		port, err := LookupPort(testCtx(t), addr, "good")
		return err == nil && port == 7000
	})
	conns, _, shed, refused := s.counts()
	t.Logf("served after %v with 5,000 connections held: %d open, %d shed, %d refused",
		time.Since(start).Round(time.Millisecond), conns, shed, refused)
	if conns > defaultMaxConns {
		t.Fatalf("%d connections open, over the cap %d", conns, defaultMaxConns)
	}
	select {
	case <-good.Done():
		t.Fatal("the registration of good was dropped")
	default:
	}
}
