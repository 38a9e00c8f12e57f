package dist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// A call whose caller gives up (its context ends, here cancelled once the
// call runs on the peer) while the connection stays is cancelled on the
// peer: the caller's node sends a Cancel, and the function's context
// ends. The connection is unharmed and the peer forgets the call.
func TestCallCancelledWhenCallerGivesUp(t *testing.T) {
	c := newCluster(t)
	b, started, cancelled := blockingNode(c, "gub@localhost")
	a := c.start("gua@localhost")
	errc := make(chan error, 1)
	// Cancelled once the call has started, not after a fixed time: the
	// call connects a to b first, which can take longer than any short
	// timeout on a loaded machine (then the call never starts).
	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, err := a.RPC(cctx, b.Name(), "block")
		errc <- err
	}()
	select {
	case <-started:
	case <-time.After(waitTime):
		t.Fatal("the call did not start")
	}
	cancel()
	select {
	case err := <-cancelled:
		if err != context.Canceled {
			t.Fatalf("the call's context ended with %v, want canceled", err)
		}
	case <-time.After(waitTime):
		t.Fatal("the call's context was not cancelled when its caller gave up")
	}
	if err := <-errc; !errors.Is(err, proc.ErrTimeout) {
		t.Fatalf("the caller got %v, want a timeout", err)
	}
	eventually(t, "the peer to forget the call", func() bool { return b.running(a.Name()) == 0 })
	if v, err := a.RPC(ctx(t), b.Name(), "square", 7); err != nil || v != int(49) {
		t.Fatalf("a call after the cancelled one: %v, %v", v, err)
	}
	if a.connFor(b.Name()) == nil {
		t.Fatal("the cancel dropped the connection")
	}
}

// A Cancel names a call of the connection it comes on: a ref unknown
// there (finished, or never made) is ignored.
func TestCancelOfUnknownCallIgnored(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("cua@localhost"), c.start("cub@localhost")
	if _, err := a.RPC(ctx(t), b.Name(), "square", 2); err != nil {
		t.Fatal(err)
	}
	ac := a.connFor(b.Name())
	must(ac.send(Message{Kind: KindCancel, Ref: a.Proc().MakeRef()}, false))
	if v, err := a.RPC(ctx(t), b.Name(), "square", 3); err != nil || v != int(9) {
		t.Fatalf("after a stray cancel: %v, %v", v, err)
	}
}

// At its cap of calls running for one peer, a node answers that peer's
// next call at once with ErrBusy and drops its casts (logging both);
// other peers are not affected, and once calls finish new ones run.
func TestCallsCappedPerPeer(t *testing.T) {
	const limit = 3
	c := newCluster(t)
	started, release := make(chan struct{}, limit), make(chan struct{})
	b := c.start("capb@localhost", func(cfg *Config) {
		f := testFuncs()
		must(f.Register("block", func() string {
			started <- struct{}{}
			<-release
			return "released"
		}))
		cfg.Functions = f
		cfg.MaxCallsPerPeer = limit
	})
	a, other := c.start("capa@localhost"), c.start("capo@localhost", func(cfg *Config) { cfg.Hidden = true })
	results := make(chan error, limit)
	for range limit {
		go func() {
			_, err := a.RPC(ctx(t), b.Name(), "block")
			results <- err
		}()
	}
	for range limit {
		select {
		case <-started:
		case <-time.After(waitTime):
			t.Fatal("the calls under the cap did not all start")
		}
	}
	_, err := a.RPC(ctx(t), b.Name(), "square", 2)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("the call over the cap got %v, want ErrBusy", err)
	}
	if want := fmt.Sprintf("runs %d calls from %s already", limit, a.Name()); !strings.Contains(err.Error(), want) {
		t.Errorf("busy error %q does not say %q", err, want)
	}
	if err := a.Cast(ctx(t), b.Name(), "square", 2); err != nil {
		t.Fatalf("a cast over the cap fails at the caller: %v", err)
	}
	eventually(t, "the dropped cast to be logged", func() bool {
		return strings.Contains(c.logs.text(), "cast of \"square\" refused")
	})
	if v, err := other.RPC(ctx(t), b.Name(), "square", 5); err != nil || v != int(25) {
		t.Fatalf("another peer's call while the first is at its cap: %v, %v", v, err)
	}
	close(release)
	for range limit {
		if err := <-results; err != nil {
			t.Fatalf("a call under the cap: %v", err)
		}
	}
	eventually(t, "the finished calls to be counted out", func() bool { return b.running(a.Name()) == 0 })
	if v, err := a.RPC(ctx(t), b.Name(), "square", 4); err != nil || v != int(16) {
		t.Fatalf("a call once the others finished: %v, %v", v, err)
	}
	// The peer's entry goes with its connection.
	a.Disconnect(b.Name())
	eventually(t, "the gone peer's entry to be dropped", func() bool {
		b.rpc.inMu.Lock()
		defer b.rpc.inMu.Unlock()
		return b.rpc.incoming[a.Name()] == nil
	})
}

// A negative cap is no cap; zero is the default.
func TestMaxCallsDefault(t *testing.T) {
	for cfg, want := range map[int]int{0: DefaultMaxCallsPerPeer, -1: 0, 5: 5} {
		n := &Node{cfg: Config{MaxCallsPerPeer: cfg}}
		if got := n.maxCalls(); got != want {
			t.Errorf("MaxCallsPerPeer %d: cap %d, want %d", cfg, got, want)
		}
	}
}

// echoSources runs any literal, returning its source.
type echoSources struct{}

func (echoSources) Compile(src string) (Callable, error) {
	return func(ctx context.Context, args []any) (any, error) { return src, nil }, nil
}

// The allow-list admits calls, casts and spawns by the names its patterns
// match, and literals only under "<literal>"; everything else is refused
// with ErrRefusedCall at the caller (a cast silently) and logged on the
// callee, at most logBurst lines per peer per interval.
func TestRPCAllowList(t *testing.T) {
	c := newCluster(t)
	b := c.start("allowb@localhost", func(cfg *Config) {
		f := testFuncs()
		must(f.Register("str.Upper", strings.ToUpper))
		cfg.Functions, cfg.Sources = f, echoSources{}
		cfg.RPCAllow = []string{"square", "str.*"}
	})
	a := c.start("allowa@localhost")

	if v, err := a.RPC(ctx(t), b.Name(), "square", 3); err != nil || v != int(9) {
		t.Fatalf("allowed by name: %v, %v", v, err)
	}
	if v, err := a.RPC(ctx(t), b.Name(), "str.Upper", "hi"); err != nil || v != "HI" {
		t.Fatalf("allowed by glob: %v, %v", v, err)
	}
	for _, fn := range []string{"fail", "nosuch", "str", "squares"} {
		_, err := a.RPC(ctx(t), b.Name(), fn)
		if !errors.Is(err, ErrRefusedCall) {
			t.Fatalf("rpc %s: %v, want ErrRefusedCall", fn, err)
		}
		if want := fmt.Sprintf("%q is not allowed by %s's --rpc-allow", fn, b.Name()); !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if _, err := a.RPCSource(ctx(t), b.Name(), "func() {}"); !errors.Is(err, ErrRefusedCall) || !strings.Contains(err.Error(), "a function literal is not allowed") {
		t.Fatalf("rpc of a literal: %v, want ErrRefusedCall", err)
	}
	if r := a.Multicall(ctx(t), []string{b.Name()}, "fail"); !errors.Is(r[0].Err, ErrRefusedCall) {
		t.Fatalf("multicall: %v, want ErrRefusedCall", r[0].Err)
	}

	// Spawns, by name and of a literal.
	if _, _, err := a.SpawnRemote(ctx(t), nil, b.Name(), "square", []any{2}, SpawnOptions{}); err != nil {
		t.Fatalf("spawn of an allowed name: %v", err)
	}
	if _, _, err := a.SpawnRemote(ctx(t), nil, b.Name(), "fail", nil, SpawnOptions{}); !errors.Is(err, ErrRefusedCall) {
		t.Fatalf("spawn of a refused name: %v, want ErrRefusedCall", err)
	}
	if _, _, err := a.SpawnRemote(ctx(t), nil, b.Name(), "", nil, SpawnOptions{Source: "func() {}"}); !errors.Is(err, ErrRefusedCall) {
		t.Fatalf("spawn of a literal: %v, want ErrRefusedCall", err)
	}

	// A cast is refused without an answer, and logged.
	if err := a.Cast(ctx(t), b.Name(), "fail"); err != nil {
		t.Fatalf("a refused cast fails at the caller: %v", err)
	}
	if _, err := a.RPC(ctx(t), b.Name(), "square", 1); err != nil { // after the cast on the same connection
		t.Fatal(err)
	}
	refusals := func() int { return strings.Count(c.logs.text(), "from "+a.Name()+": not in the rpc allow-list") }
	if got := refusals(); got != logBurst {
		t.Fatalf("%d refusals logged, want %d (the burst)\n%s", got, logBurst, c.logs.text())
	}
	if !strings.Contains(c.logs.text(), `refused call of "fail" from allowa@localhost`) {
		t.Errorf("the log does not name the refused call:\n%s", c.logs.text())
	}
	// The node's own calls to itself are not the list's business.
	if _, err := b.RPC(ctx(t), b.Name(), "fail"); errors.Is(err, ErrRefusedCall) || err == nil {
		t.Fatalf("a local call: %v, want the function's own error", err)
	}
	b.Close()
	if !strings.Contains(c.logs.text(), "more suppressed)") {
		t.Errorf("closing the node did not account for the suppressed lines:\n%s", c.logs.text())
	}
}

// "<literal>" lets peers send function literals, and nothing else.
func TestRPCAllowLiterals(t *testing.T) {
	c := newCluster(t)
	b := c.start("litb@localhost", func(cfg *Config) {
		cfg.Sources = echoSources{}
		cfg.RPCAllow = []string{LiteralPattern}
	})
	a := c.start("lita@localhost")
	if v, err := a.RPCSource(ctx(t), b.Name(), "func() string { return 1 }"); err != nil || v != "func() string { return 1 }" {
		t.Fatalf("rpc of a literal: %v, %v", v, err)
	}
	if _, _, err := a.SpawnRemote(ctx(t), nil, b.Name(), "", nil, SpawnOptions{Source: "func() {}"}); err != nil {
		t.Fatalf("spawn of a literal: %v", err)
	}
	if _, err := a.RPC(ctx(t), b.Name(), "square", 2); !errors.Is(err, ErrRefusedCall) {
		t.Fatalf("rpc by name: %v, want ErrRefusedCall", err)
	}
}

func TestRPCAllowBadPattern(t *testing.T) {
	c := newCluster(t)
	for _, p := range []string{"[", ""} {
		if _, err := c.tryStart("badpat@localhost", func(cfg *Config) { cfg.RPCAllow = []string{"ok", p} }); err == nil {
			t.Errorf("pattern %q: the node started", p)
		}
	}
	if err := CheckRPCAllow([]string{"strings.*", "node.?alt", "[A-Z]*", LiteralPattern}); err != nil {
		t.Fatal(err)
	}
}
