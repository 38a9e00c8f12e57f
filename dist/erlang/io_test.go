package erlang

import (
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// TestRealNodeOutput calls BEAM functions that print, from gonode: with a
// group leader in the call (as the shell's rpc gives), the text comes to
// it as gonode's output message; without one, into the node's log. The
// calls return as on a BEAM node, and one that reads gets an error
// rather than waiting for ever.
func TestRealNodeOutput(t *testing.T) {
	const cookie = "io_cookie_9"
	erl := startErl(t, cookie)
	n, logs, _, _ := startGonode(t, erl, cookie)
	ctx, gl := connectAttached(t, n, erl, "group leader")
	glCtx := dist.WithGroupLeader(ctx, gl.Pid())
	output := func() string {
		t.Helper()
		m, err := gl.ReceiveTimeout(10 * time.Second)
		o, ok := m.([]any)
		if err != nil || !ok || len(o) != 3 || o[0] != outputTag || o[1] != erl.name {
			t.Fatalf("group leader got %#v, %v; want the output of %s", m, err, erl.name)
		}
		s, _ := o[2].(string)
		return s
	}

	for _, tt := range []struct {
		fn   string
		args []any
		want string
	}{
		{"io:format", []any{"hi~n"}, "hi\n"},
		{"io:format", []any{"~p and ~s~n", []any{etf.Tuple{proc.Atom("a"), 1}, "text"}}, "{a,1} and text\n"},
		{"io:put_chars", []any{"héllo wörld\n"}, "héllo wörld\n"},
		{"io:format", []any{"~ts~n", []any{"日本"}}, "日本\n"},
	} {
		r, err := n.RPC(glCtx, erl.name, tt.fn, tt.args...)
		if err != nil || r != proc.Atom("ok") {
			t.Errorf("%s%v: %#v, %v; want ok", tt.fn, tt.args, r, err)
		}
		if got := output(); got != tt.want {
			t.Errorf("%s%v printed %q, want %q", tt.fn, tt.args, got, tt.want)
		}
	}
	// Reading has no terminal here: an error, at once.
	if r, err := n.RPC(glCtx, erl.name, "io:get_line", "prompt> "); err != nil || !strings.Contains(formatTerm(r), "error") {
		t.Errorf("io:get_line: %#v, %v; want an error value", r, err)
	}

	// Without a group leader: the node's log.
	if r, err := n.RPC(ctx, erl.name, "io:format", "to the log ~w~n", []any{42}); err != nil || r != proc.Atom("ok") {
		t.Errorf("io:format without a group leader: %#v, %v; want ok", r, err)
	}
	waitUntil(t, "the output in the log", func() bool {
		_, ok := logs.find(`"to the log 42\n"`)
		return ok
	})
	if m, err := gl.ReceiveTimeout(0); err == nil {
		t.Errorf("the group leader got %#v after the calls", m)
	}
}
