package epmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testport"
)

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logRecorder collects log lines and echoes them to the test log.
type logRecorder struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func newLogRecorder(t *testing.T) *logRecorder { return &logRecorder{t: t} }

func (l *logRecorder) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	l.t.Log(line)
}

func (l *logRecorder) has(substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.lines, func(s string) bool { return strings.Contains(s, substr) })
}

// startServer serves a fresh Server on a free loopback port; tweak may
// adjust it before it serves. The test's cleanup closes it.
func startServer(t *testing.T, tweak func(*Server)) (*Server, string, *logRecorder) {
	t.Helper()
	logs := newLogRecorder(t)
	s := NewServer(logs.logf)
	if tweak != nil {
		tweak(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return s, ln.Addr().String(), logs
}

// freeAddr returns a loopback address nobody listens on (at the moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	return testport.Addr(t)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// namesOf lists the names at addr, or nil if the port mapper can't be asked.
func namesOf(t *testing.T, addr string) map[string]uint16 {
	t.Helper()
	entries, err := Names(testCtx(t), addr)
	if err != nil {
		return nil
	}
	m := make(map[string]uint16, len(entries))
	for _, e := range entries {
		m[e.Name] = e.Port
	}
	return m
}

// rawConn dials addr for hand-made requests.
func rawConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readN reads exactly n bytes within 5 s.
func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return b
}

// readToClose reads until the peer closes, failing after 5 s.
func readToClose(t *testing.T, c net.Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("expected the server to close the connection: %v (got %q)", err, b)
	}
	return b
}

// stillOpen reports that c neither closes nor sends anything for a moment.
func stillOpen(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var b [1]byte
	_, err := c.Read(b[:])
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func aliveFrame(name string, port uint16, high uint16) []byte {
	return frame(encodeAliveReq(aliveReq{
		Port: port, NodeType: NodeTypeNormal, High: high, Low: DistLow, Name: name,
	}))
}
