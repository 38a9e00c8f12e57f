package erlang

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// probe is what the test node's functions report.
type probe struct {
	cancelled chan error  // Sleep's context ended
	notes     chan string // Note's argument
}

// testFuncs are the functions a BEAM node calls on the test's gonode
// node: Upper and strings.ToUpper (strings.ToUpper), Sum of a list, Fail
// (a Go error), Sleep (returns when its context ends), Note (for casts).
func testFuncs(t *testing.T) (*dist.Funcs, *probe) {
	t.Helper()
	pr := &probe{cancelled: make(chan error, 8), notes: make(chan string, 8)}
	fns := dist.NewFuncs()
	for name, fn := range map[string]any{
		"Upper":           strings.ToUpper,
		"strings.ToUpper": strings.ToUpper,
		"Sum": func(xs []int) int {
			s := 0
			for _, x := range xs {
				s += x
			}
			return s
		},
		"Fail": func() (string, error) { return "", errors.New("boom") },
		"Sleep": func(ctx context.Context) error {
			<-ctx.Done()
			pr.cancelled <- ctx.Err()
			return ctx.Err()
		},
		"Note": func(s string) { pr.notes <- s },
	} {
		if err := fns.Register(name, fn); err != nil {
			t.Fatal(err)
		}
	}
	return fns, pr
}

// TestRealNodeRPC checks erpc both ways against a real OTP node: erl's
// erpc:call, rpc:call, erpc:cast and rpc:cast into gonode's functions
// (errors compared with the same calls BEAM to BEAM), and Node.RPC and
// Node.Cast from gonode into the BEAM's.
func TestRealNodeRPC(t *testing.T) {
	const cookie = "rpc_cookie_7"
	erl := startErl(t, cookie)
	n, logs, _, pr := startGonode(t, erl, cookie)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("into gonode", func(t *testing.T) {
		if got := erl.run(t, "connect", gonodeName); got != "true" {
			t.Fatalf("net_kernel:connect_node = %s, want true", got)
		}
		// strings:'ToUpper' by the module rule, gonode:'Upper' and
		// 'Elixir.Gonode':'Upper' by the pseudo-module, a list argument.
		if got, want := erl.run(t, "rpcin", gonodeName), `{<<"HI">>,<<"HI">>,<<"HO">>,303}`; got != want {
			t.Errorf("calls into gonode functions: %s, want %s", got, want)
		}
		// An unknown function: rpc:call's badrpc and erpc:call's
		// exception are those of the same calls to erl itself.
		if got := erl.run(t, "undef", gonodeName); !strings.HasPrefix(got, "{true,") || !strings.Contains(got, "undef") {
			t.Errorf("undef from gonode differs from the BEAM's: %s", got)
		}
		got := erl.run(t, "failing", gonodeName)
		for _, want := range []string{
			`{error,{exception,undef,[{gonode,'Upper',[a,b],[]}]}}`, // another arity is another function
			`{error,{exception,{error,<<"boom">>},[{gonode,'Fail',[],[]}]}}`,
			`{badrpc,{'EXIT',{{error,<<"boom">>},[{gonode,'Fail',[],[]}]}}}`,
			`{error,{exception,badarg,[{gonode,'Upper',"*",[]}]}}`, // [42], as Erlang prints it
		} {
			if !strings.Contains(got, want) {
				t.Errorf("failing calls gave %s, want %s in it", got, want)
			}
		}
		// erpc's time-out demonitors the call's stand-in: its context ends.
		if got, want := erl.run(t, "timeout", gonodeName), "{{error,{erpc,timeout}},{badrpc,timeout}}"; got != want {
			t.Errorf("calls timing out: %s, want %s", got, want)
		}
		for i := 0; i < 2; i++ {
			select {
			case err := <-pr.cancelled:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Sleep's context ended with %v, want canceled", err)
				}
			case <-ctx.Done():
				t.Fatal("the timed-out calls' contexts were not cancelled")
			}
		}
		// A fun is BEAM code: erpc's notsup; spawn/2 gives a pid that is
		// dead at once, and gonode logs the refusal.
		if got := erl.run(t, "funs", gonodeName); !strings.HasPrefix(got, "{{error,{erpc,notsup}},<") {
			t.Errorf("funs on gonode: %s", got)
		}
		waitUntil(t, "gonode to log the refused spawn", func() bool {
			_, ok := logs.find("spawn request for erlang:apply/2")
			return ok
		})
		if got := erl.run(t, "cast", gonodeName); got != "{ok,true}" {
			t.Errorf("erpc:cast and rpc:cast: %s", got)
		}
		notes := map[string]bool{}
		for len(notes) < 2 {
			select {
			case s := <-pr.notes:
				notes[s] = true
			case <-ctx.Done():
				t.Fatalf("casts run: %v, want cast and rpccast", notes)
			}
		}
		if !notes["cast"] || !notes["rpccast"] {
			t.Errorf("casts run: %v", notes)
		}
	})

	t.Run("from go", func(t *testing.T) {
		call := func(fn string, args ...any) (any, error) {
			t.Helper()
			return n.RPC(ctx, erl.name, fn, args...)
		}
		if v, err := call("erlang:node"); err != nil || v != proc.Atom(erl.name) {
			t.Errorf("erlang:node = %#v, %v; want %s", v, err, erl.name)
		}
		// etf's rule: a list of small integers comes back as a Charlist.
		if v, err := call("lists:reverse", []any{1, 2, 3}); err != nil || v != etf.Charlist([]byte{3, 2, 1}) {
			t.Errorf("lists:reverse = %#v, %v; want [3,2,1]", v, err)
		}
		if v, err := call("lists:reverse", []any{proc.Atom("a"), "b", 300}); err != nil || !reflect.DeepEqual(v, []any{300, "b", proc.Atom("a")}) {
			t.Errorf("lists:reverse = %#v, %v; want [300,<<\"b\">>,a]", v, err)
		}
		if v, err := call("erlang:list_to_binary", etf.Charlist("hi")); err != nil || v != "hi" {
			t.Errorf("erlang:list_to_binary = %#v, %v; want \"hi\"", v, err)
		}
		failures := []struct {
			fn     string
			args   []any
			is     error
			kind   string
			inText string
		}{
			{"lists:nope", nil, dist.ErrUndef, dist.RemoteUndef, "{exception,undef,[{lists,nope,[],[]}]}"},
			{"erlang:atom_to_list", []any{42}, dist.ErrBadArgs, dist.RemoteBadarg, "badarg"},
			{"erlang:error", []any{proc.Atom("boom")}, dist.ErrPanic, dist.RemotePanic, "{exception,boom,"},
			{"erlang:throw", []any{proc.Atom("ball")}, dist.ErrPanic, dist.RemotePanic, "{throw,ball}"},
			{"erlang:exit", []any{proc.Atom("bye")}, nil, dist.RemoteExit, "{exception,bye}"},
		}
		for _, f := range failures {
			v, err := call(f.fn, f.args...)
			var re *dist.RemoteError
			if !errors.As(err, &re) || re.Kind != f.kind || (f.is != nil && !errors.Is(err, f.is)) || !strings.Contains(re.Message, f.inText) {
				t.Errorf("%s%v = %#v, %v; want a remote %s error holding %s", f.fn, f.args, v, err, f.kind, f.inText)
			}
		}
		// A time-out: the caller gets ErrTimeout, the BEAM a demonitor,
		// and the connection serves the next call.
		short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
		_, err := n.RPC(short, erl.name, "timer:sleep", 10000)
		stop()
		if !errors.Is(err, proc.ErrTimeout) {
			t.Errorf("timer:sleep(10000) with 200 ms: %v, want a time-out", err)
		}
		if v, err := call("erlang:node"); err != nil || v != proc.Atom(erl.name) {
			t.Errorf("after the time-out, erlang:node = %#v, %v", v, err)
		}
		// A name that is no module:function cannot go to a BEAM node.
		if _, err := call("node.AwaitStartup", 100); !errors.Is(err, dist.ErrUnencodable) {
			t.Errorf("node.AwaitStartup on a BEAM node: %v, want ErrUnencodable", err)
		}
		// A cast: erlang:send to erl's responder, which answers a's pid.
		a, err := n.Proc().Attach(proc.SpawnOptions{Label: "test"})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Exit(proc.Normal)
		if err := n.Cast(ctx, erl.name, "erlang:send", proc.Atom("responder"), etf.Tuple{a.Pid(), "casted"}); err != nil {
			t.Fatal(err)
		}
		m, err := a.ReceiveTimeout(5 * time.Second)
		if r, ok := m.(etf.Tuple); err != nil || !ok || len(r) != 2 || r[1] != "casted" {
			t.Errorf("after the cast, the responder sent %#v, %v", m, err)
		}
	})
}
