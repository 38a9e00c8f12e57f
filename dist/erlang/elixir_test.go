package erlang

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/internal/testport"
)

// elixirScript runs the checks from an Elixir node against the
// gonode node GONODE and prints one line per check: its name and what
// it got, inspected.
const elixirScript = `
g = :"GONODE"
out = fn name, v -> IO.puts("#{name} #{inspect(v)}") end
catching = fn f -> try do f.() catch kind, reason -> {kind, reason} end end
out.("connect", Node.connect(g))
out.("list", g in Node.list())
out.("ping", :net_adm.ping(g))
send({:echo, g}, {self(), {:hello, 42, "bin"}})
out.("echo", receive do {:echoed, m} -> m after 5000 -> :timeout end)
ref = Process.monitor({:missing, g})
out.("monitor", receive do {:DOWN, ^ref, :process, obj, why} -> {obj, why} after 5000 -> :timeout end)
out.("rpc", :rpc.call(g, :strings, :ToUpper, ["hi"]))
out.("erpc", :erpc.call(g, Gonode, :Upper, ["ho"]))
out.("rpc_undef", :rpc.call(g, :nope, :nope, []))
out.("erpc_undef", catching.(fn -> :erpc.call(g, :nope, :nope, [1]) end))
out.("genserver", GenServer.call({:calc, g}, {:add, 1, 2}))
out.("genserver_missing", catching.(fn -> GenServer.call({:missing, g}, :x) end))
IO.puts("done")
`

// TestElixirNode runs a real Elixir node against a gonode node: the
// checks of the issue, from Elixir's side (Node.connect and Node.list,
// ping, a send to a registered gonode process and its reply, a monitor
// of a missing name, :rpc.call and :erpc.call into a gonode function and
// an unknown one, GenServer.call to a gonode server).
func TestElixirNode(t *testing.T) {
	elixir, err1 := exec.LookPath("elixir")
	epmdBin, err2 := exec.LookPath("epmd")
	if err1 != nil || err2 != nil {
		t.Skip("elixir or epmd is not on PATH: install Elixir (Debian elixir) to test against an Elixir node")
	}
	const cookie = "elixir_cookie_3"
	port := testport.Port(t)
	env := ownEnv(t, port)
	ep := exec.Command(epmdBin, "-port", port)
	ep.Env = env
	start(t, ep)
	addr := "127.0.0.1:" + port
	waitUntil(t, "epmd to answer", func() bool {
		_, err := epmd.Names(context.Background(), addr)
		return err == nil
	})
	startGonode(t, &erlNode{epmd: addr}, cookie)

	script := filepath.Join(t.TempDir(), "checks.exs")
	if err := os.WriteFile(script, []byte(strings.ReplaceAll(elixirScript, "GONODE", gonodeName)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, elixir, "--sname", "ex@localhost", "--cookie", cookie,
		"--erl", "-start_epmd false", script)
	cmd.Env = env
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	if err != nil {
		t.Fatalf("elixir: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if name, v, ok := strings.Cut(line, " "); ok {
			got[name] = v
		}
	}
	for _, c := range []struct{ name, want string }{
		{"connect", "true"},
		{"list", "true"},
		{"ping", ":pong"},
		{"echo", `{:hello, 42, "bin"}`},
		{"monitor", "{{:missing, :" + gonodeName + "}, :noproc}"},
		{"rpc", `"HI"`},
		{"erpc", `"HO"`},
		{"rpc_undef", "{:badrpc, {:EXIT, {:undef, [{:nope, :nope, [], []}]}}}"},
		{"erpc_undef", "{:error, {:exception, :undef, [{:nope, :nope, [1], []}]}}"},
		{"genserver", "3"},
		{"genserver_missing", "{:exit, {:noproc, {GenServer, :call, [{:missing, :" + gonodeName + "}, :x, 5000]}}}"},
	} {
		if got[c.name] != c.want {
			t.Errorf("%s: Elixir got %s, want %s", c.name, got[c.name], c.want)
		}
	}
	if !strings.Contains(out, "\ndone") && !strings.HasPrefix(out, "done") {
		t.Errorf("the script did not finish:\n%s", out)
	}
	if t.Failed() {
		t.Logf("elixir printed:\n%s", out)
	}
}

// ownEnv is the environment of the test's BEAM processes: its own port
// mapper port and a home of its own (so ~/.erlang.cookie is never the
// user's).
func ownEnv(t *testing.T, port string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ERL_EPMD_PORT=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "ERL_EPMD_PORT="+port, "HOME="+t.TempDir())
}
