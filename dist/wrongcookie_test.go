//go:build unix

package dist

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// wrongCookieAttempt dials n as node name with a wrong cookie and runs the
// handshake, which must fail.
func wrongCookieAttempt(n *Node, name string) error {
	// From 127.0.0.2: the wrong cookies slow down their sender's address,
	// and the legitimate peer of a test dials from 127.0.0.1, as a real
	// peer and an attacker have addresses of their own.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	nc, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port())))
	if err != nil {
		return err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(waitTime))
	cfg := wire.HandshakeConfig{Name: name, Creation: 1, Cookie: "guess"}
	if _, err = n.cfg.Protocol.Handshake.Initiate(nc, bufio.NewReader(nc), cfg, n.Name()); err == nil {
		return errors.New("the handshake succeeded with a wrong cookie")
	}
	return nil
}

var suppressedRE = regexp.MustCompile(`\((\d+) more suppressed\)`)

// linesAccounted adds up the events that log lines containing all of
// subs account for: one per line written, K+1 per summary line.
func linesAccounted(logs string, subs ...string) (lines, events int) {
next:
	for _, l := range strings.Split(logs, "\n") {
		for _, s := range subs {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		lines++
		events++
		if m := suppressedRE.FindStringSubmatch(l); m != nil {
			k, _ := strconv.Atoi(m[1])
			events += k
		}
	}
	return lines, events
}

// TestWrongCookieFlood: 1,000 wrong-cookie attempts at once all fail (the
// handshake refuses the cookie, or the address is throttled and the
// connection closed before it); a bounded number of log lines accounts for
// every one, and a legitimate peer from the same address connects
// afterwards.
func TestWrongCookieFlood(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.start("a@localhost")
	const attempts = 1000
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, attempts)
	for i := 0; i < attempts; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := wrongCookieAttempt(a, fmt.Sprintf("evil%d@localhost", i)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	b := c.start("b@localhost")
	if got := b.Ping(ctx(t), a.Name()); got != "pong" {
		t.Fatalf("a legitimate peer after the flood: %s", got)
	}
	a.Close()
	lines, events := linesAccounted(c.logs.text(), "connection from evil", "cookie mismatch")
	tlines, tevents := linesAccounted(c.logs.text(), "too many recent wrong-cookie attempts")
	// Past maxHandshakes at once, the oldest in their handshake are shed.
	slines, sevents := linesAccounted(c.logs.text(), "connections in their handshake; closed the oldest")
	lines += tlines + slines
	if events+tevents+sevents < attempts {
		t.Fatalf("the log accounts for %d+%d+%d refusals, want at least %d (a connection shed just after its refusal counts twice):\n%s", events, tevents, sevents, attempts, c.logs.text())
	}
	// At most logBurst+1 lines per logInterval for each kind of line, and
	// a few kinds: the bound grows with the intervals the flood took, so
	// that a slow machine does not fail it.
	intervals := int(time.Since(start)/logInterval) + 1
	if lines > 10*(logBurst+1)*intervals {
		t.Fatalf("%d log lines for %d refusals in %d log intervals", lines, attempts, intervals)
	}
	t.Logf("%d attempts: %d refused after the handshake, %d closed before it, %d shed; %d log lines", attempts, events, tevents, sevents, lines)
}

// TestWrongCookieSlowed: one after another, wrong-cookie attempts from one
// address each wait longer for their turn. The client learns of a failure
// a moment before the node records it, so the test starts each attempt
// only once the previous failure is in the log (which the node writes
// after recording it). Then attempt k+1 starts its handshake no sooner
// than the penalty of failure k (base doubled k-1 times) after that
// failure, so from the start of the first attempt to the end of the last
// at least the sum of the penalties passes (timers never fire early, so
// this lower bound holds on any machine).
func TestWrongCookieSlowed(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.start("a@localhost")
	const attempts = logBurst + 1 // failures 1..logBurst are all logged
	start := time.Now()
	for i := 0; i < attempts; i++ {
		if err := wrongCookieAttempt(a, "evil@localhost"); err != nil {
			t.Fatal(err)
		}
		if i+1 < attempts {
			eventually(t, "the failure to be logged", func() bool {
				return countLines(c.logs.text(), "cookie mismatch") == i+1
			})
		}
	}
	took := time.Since(start)
	min := failPenaltyBase * (1<<(attempts-1) - 1) // base + 2 base + ...
	if took < min {
		t.Fatalf("%d attempts took %v, less than the penalties (%v)", attempts, took, min)
	}
	t.Logf("%d sequential wrong-cookie attempts took %v (penalties %v)", attempts, took.Round(time.Millisecond), min)
	// The right cookie from the same address is not slowed down by them.
	b := c.start("b@localhost")
	if got := b.Ping(ctx(t), a.Name()); got != "pong" {
		t.Fatalf("ping: %s", got)
	}
}
