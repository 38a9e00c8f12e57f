package erlang

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/internal/testport"
)

// These tests run one real Erlang node (erl, Debian erlang-base) on an
// epmd of its own (its port from testport, ERL_EPMD_PORT), driven line by
// line through its standard input. The gonode node registers in the same
// epmd.

// erlScript answers commands read from stdin, one per line (a command and
// a node name), and prints nodeup/nodedown as they happen. It registers
// responder, which answers {From, Msg} with {reply, Msg}, and {From,
// spawn_victim} with {victim, V}, V a new process that ends on stop.
const erlScript = `
Parent = self(),
spawn(fun() -> net_kernel:monitor_nodes(true), Parent ! monitoring,
  (fun L() -> receive {E, N} -> io:format("~s ~s~n", [E, N]), L() end end)() end),
receive monitoring -> ok end,
register(responder, spawn(fun R() -> receive
  {From, spawn_victim} -> From ! {victim, spawn(fun() -> receive stop -> ok end end)}, R();
  {From, Msg} -> From ! {reply, Msg}, R() end end)),
Wait = fun(Tag, Fun) -> io:format("~s ~s~n", [Tag, io_lib:print(Fun(), 1, 1000000, -1)]) end,
Catch = fun(Nd, M, F, A) -> try erpc:call(Nd, M, F, A, 5000) catch C:R -> {C, R} end end,
Catch2 = fun(Nd, Fun) -> try erpc:call(Nd, Fun, 5000) catch C:R -> {C, R} end end,
io:format("ready ~s~n", [node()]),
(fun Loop() ->
  case io:get_line("") of
    eof -> halt();
    Line ->
      [Cmd, Arg] = string:lexemes(string:trim(Line), " "),
      N = list_to_atom(Arg),
      case Cmd of
        "connect" -> Wait(connect, fun() -> net_kernel:connect_node(N) end);
        "nodes" -> Wait(nodes, fun() -> lists:member(N, nodes()) end);
        "ping" -> Wait(ping, fun() -> net_adm:ping(N) end);
        "echo" -> Wait(echo, fun() -> {echo, N} ! {self(), {hello, 42, <<"bin">>}},
          receive {echoed, M} -> M after 5000 -> timeout end end);
        "missing" -> Wait(missing, fun() -> Mref = erlang:monitor(process, {missing, N}),
          receive {'DOWN', Mref, process, Obj, Why} -> {Obj, Why} after 5000 -> timeout end end);
        "killremote" -> Wait(killremote, fun() ->
          {victims, N} ! {self(), victim},
          G = receive {victim, P} -> P after 5000 -> timeout end,
          Self = self(),
          B = spawn(fun() -> link(G), Self ! linked, receive after infinity -> ok end end),
          receive linked -> ok end,
          M = monitor(process, B),
          exit(G, kill),
          receive {'DOWN', M, process, B, Why} -> Why after 5000 -> timeout end end);
        "gencall" -> Wait(gencall, fun() -> {gen_server:call({calc, N}, {add, 1, 2}),
          catch gen_server:call({missing, N}, x)} end);
        "rpc" -> Wait(rpc, fun() -> {rpc:call(N, erlang, node, []),
          try erpc:call(N, erlang, node, []) catch Class:Reason -> {Class, Reason} end} end);
        "rpcin" -> Wait(rpcin, fun() -> {rpc:call(N, strings, 'ToUpper', [<<"hi">>]),
          erpc:call(N, gonode, 'Upper', [<<"hi">>]), erpc:call(N, 'Elixir.Gonode', 'Upper', [<<"ho">>]),
          erpc:call(N, gonode, 'Sum', [[1, 2, 300]])} end);
        "undef" -> Wait(undef, fun() -> G = {rpc:call(N, nope, nope, []), Catch(N, nope, nope, [])},
          B = {rpc:call(node(), nope, nope, [], 5000), Catch(node(), nope, nope, [])}, {G =:= B, G} end);
        "failing" -> Wait(failing, fun() -> {Catch(N, gonode, 'Upper', [a, b]), Catch(N, gonode, 'Fail', []),
          rpc:call(N, gonode, 'Fail', []), Catch(N, gonode, 'Upper', [42])} end);
        "timeout" -> Wait(timeout, fun() -> {try erpc:call(N, gonode, 'Sleep', [], 200) catch C:R -> {C, R} end,
          rpc:call(N, gonode, 'Sleep', [], 200)} end);
        "funs" -> Wait(funs, fun() -> {Catch2(N, fun() -> ok end), spawn(N, fun() -> ok end)} end);
        "cast" -> Wait(cast, fun() -> {erpc:cast(N, gonode, 'Note', [<<"cast">>]),
          rpc:cast(N, gonode, 'Note', [<<"rpccast">>])} end);
        "disconnect" -> Wait(disconnect, fun() -> erlang:disconnect_node(N) end);
        "badcookie" -> Wait(badcookie, fun() -> erlang:set_cookie(N, wrong_cookie_zz),
          net_kernel:connect_node(N) end)
      end,
      Loop()
  end
end)().
`

// erlNode is a running erl and its output, line by line.
type erlNode struct {
	in   io.Writer
	epmd string // its port mapper, host:port
	name string

	mu   sync.Mutex
	log  []string     // every line printed so far
	used map[int]bool // lines of log that expect has returned
}

// start runs cmd, killing it (and waiting for it) at the end of the test.
func start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
}

// startErl starts epmd on a port of its own (in the foreground, so that
// killing it at the end of the test stops it) and erl -sname x@localhost
// with cookie, registered in it. It skips the test only when erl or epmd
// is not on PATH.
func startErl(t *testing.T, cookie string) *erlNode {
	erl, err1 := exec.LookPath("erl")
	epmdBin, err2 := exec.LookPath("epmd")
	if err1 != nil || err2 != nil {
		t.Skip("erl or epmd is not on PATH: install Erlang/OTP (erlang-base) to test the Erlang dialect against a real node")
	}
	port := testport.Port(t)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ERL_EPMD_PORT=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	// A home of its own (removed by the test): the node never reads or
	// writes the user's ~/.erlang.cookie.
	env = append(env, "ERL_EPMD_PORT="+port, "HOME="+t.TempDir())

	ep := exec.Command(epmdBin, "-port", port)
	ep.Env = env
	start(t, ep)
	n := &erlNode{epmd: "127.0.0.1:" + port, name: "x@localhost", used: make(map[int]bool)}
	waitUntil(t, "epmd to answer", func() bool {
		_, err := epmd.Names(context.Background(), n.epmd)
		return err == nil
	})

	cmd := exec.Command(erl, "-sname", n.name, "-setcookie", cookie, "-noshell",
		"-start_epmd", "false", "-kernel", "net_setuptime", "5", "-eval", erlScript)
	cmd.Env = env
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	n.in = in
	// The reader ends when erl is killed (start's cleanup, which runs
	// first) and its stdout closes; this cleanup waits for it.
	read := make(chan struct{})
	started := false
	t.Cleanup(func() {
		if started {
			<-read
		}
	})
	start(t, cmd)
	started = true
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n.mu.Lock()
			n.log = append(n.log, sc.Text())
			n.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			n.mu.Lock()
			t.Logf("erl printed:\n%s", strings.Join(n.log, "\n"))
			n.mu.Unlock()
		}
	})
	n.expect(t, "ready "+n.name)
	return n
}

// expect waits for a line starting with prefix, not returned before, and
// returns it. Lines it skips stay for later calls: the node prints nodeup
// and a command's answer in either order.
func (n *erlNode) expect(t *testing.T, prefix string) string {
	t.Helper()
	var line string
	waitUntil(t, fmt.Sprintf("erl to print %q", prefix), func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		for i, l := range n.log {
			if !n.used[i] && strings.HasPrefix(l, prefix) {
				n.used[i], line = true, l
				return true
			}
		}
		return false
	})
	return line
}

// run sends a command and returns what it printed after its tag.
func (n *erlNode) run(t *testing.T, cmd, arg string) string {
	t.Helper()
	if _, err := fmt.Fprintln(n.in, cmd+" "+arg); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(n.expect(t, cmd+" "), cmd+" ")
}

// waitUntil polls cond until it holds, failing the test after 15 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(15 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// logBuf collects a node's log lines.
type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logBuf) find(s string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return line, true
		}
	}
	return "", false
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
