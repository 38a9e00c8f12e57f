package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testport"
)

// lockedBuffer is what run writes its log lines to while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer // guarded by mu
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls a condition under a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition under a deadline
	}
}

// The program serves its compiled functions to a peer, by their names and
// as members of package mathx, and returns once its context is cancelled
// (what SIGINT and SIGTERM do), its node closed.
func TestRunServesAndStops(t *testing.T) {
	t.Setenv("ERL_EPMD_PORT", testport.Port(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, "svc@localhost", "secret", &stdout, &stderr) }() // waited for below
	waitFor(t, "the node to serve", func() bool { return strings.Contains(stderr.String(), " serves ") })

	client, err := dist.Start(ctx, dist.Config{Name: "client@localhost", Cookie: "secret", Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close() // on failure; idempotent
	for _, c := range []struct {
		fn   string
		args []any
		want any
	}{
		{"Fib", []any{25}, 75025},
		{"mathx.Fib", []any{10}, 55},
		{"Sum", []any{[]any{1, 2, 3}}, 6},
		{"IsPrime", []any{97}, true},
	} {
		got, err := client.RPC(ctx, "svc@localhost", c.fn, c.args...)
		if err != nil {
			t.Fatalf("rpc %s: %v", c.fn, err)
		}
		if got != c.want && !(isInt(got) && toInt(got) == toInt(c.want)) {
			t.Errorf("rpc %s%v = %v (%T), want %v", c.fn, c.args, got, got, c.want)
		}
	}

	client.Close() // first: the program's node may serve the port mapper
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(stderr.String(), "embed: svc@localhost stopped\n") {
		t.Errorf("no stop line in the log:\n%s", stderr.String())
	}
}

func TestRunWantsACookie(t *testing.T) {
	err := run(context.Background(), "svc@localhost", "", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "no cookie") {
		t.Fatalf("run without a cookie: %v", err)
	}
}

func isInt(v any) bool {
	switch v.(type) {
	case int, int64, uint64:
		return true
	}
	return false
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case uint64:
		return int64(x)
	}
	return -1
}
