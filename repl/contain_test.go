package repl

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonode/gonode/repl/eval"
)

// escapeSnippets holds, for each escape path, a statement that would run
// interpreted code outside its process (and, for most, panic there, which
// would end the node) if the path were open.
var escapeSnippets = map[string]string{
	"time.AfterFunc":              `time.AfterFunc(0, func() { panic("x") })`,
	"context.AfterFunc":           `ctx, cancel := context.WithCancel(context.Background()); context.AfterFunc(ctx, func() { panic("x") }); cancel()`,
	"runtime.SetFinalizer":        `v := new(int); runtime.SetFinalizer(v, func(*int) { panic("x") }); v = nil; runtime.GC()`,
	"runtime.Goexit":              `runtime.Goexit()`,
	"http.Server":                 `srv := &http.Server{Addr: "127.0.0.1:0", Handler: http.NotFoundHandler(), ReadTimeout: time.Second}; srv.ListenAndServe()`,
	"http.Handle":                 `http.Handle("/contain-test", http.NotFoundHandler())`,
	"http.HandleFunc":             `http.HandleFunc("/contain-test", func(w http.ResponseWriter, r *http.Request) { panic("x") })`,
	"http.TimeoutHandler":         `http.TimeoutHandler(http.NotFoundHandler(), time.Second, "slow")`,
	"httptest.NewServer":          `httptest.NewServer(http.NotFoundHandler())`,
	"httptest.NewTLSServer":       `httptest.NewTLSServer(http.NotFoundHandler())`,
	"httptest.NewUnstartedServer": `httptest.NewUnstartedServer(http.NotFoundHandler())`,
	"fcgi.Serve":                  `fcgi.Serve(nil, nil)`,
	"testing.Benchmark":           `testing.Benchmark(func(b *testing.B) { panic("x") })`,
	"testing.Main":                `testing.Main(nil, nil, nil, nil)`,
	"testing.MainStart":           "", // its first parameter's type is unexported: interpreted code cannot call it, but it is replaced all the same
	"testing.RunTests":            `testing.RunTests(nil, nil)`,
	"testing.RunBenchmarks":       `testing.RunBenchmarks(nil, nil)`,
	"testing.RunExamples":         `testing.RunExamples(nil, nil)`,
	"sql.Register":                `sql.Register("contain-test", nil)`,
	"sql.OpenDB":                  `sql.OpenDB(nil)`,
	"slog.SetDefault":             `slog.SetDefault(slog.Default())`,
}

// TestEscapeSnippetsCover keeps the cases below complete: each path the
// evaluator refuses has a snippet that would escape through it.
func TestEscapeSnippetsCover(t *testing.T) {
	for _, name := range eval.Refused() {
		if _, ok := escapeSnippets[name]; !ok {
			t.Errorf("%s: no test snippet", name)
		}
	}
}

// TestEscapePathRefused runs each refused path in the shell, in a process
// linked to the shell and in one it monitors: the snippet fails with the
// message, the links and monitors get it as the reason, and the node
// lives on.
func TestEscapePathRefused(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "esc@localhost", port)
	n1.must(`trapExit(true)`, "false")
	for _, name := range eval.Refused() {
		t.Run(name, func(t *testing.T) {
			snippet := escapeSnippets[name]
			if snippet == "" {
				t.Skip("not callable from interpreted code")
			}
			want := name + " is not allowed in the shell: "
			if name == "http.Server" {
				want = "(*http.Server).ListenAndServe is not allowed in the shell: "
			}
			_, err := n1.eval(snippet)
			if err == nil || !strings.Contains(FormatError(err), want) {
				t.Fatalf("in the shell: %v, want %q", err, want)
			}
			n1.must(`p := spawnLink(func() { `+snippet+` }); m := receive(10 * time.Second).(node.ExitMsg); m.From == p`, "true")
			if got, _ := n1.eval(`m.Reason`); !strings.Contains(got, want) {
				t.Fatalf("linked process exited with %s, want %q", got, want)
			}
			n1.must(`_, ref := spawnMonitor(func() { `+snippet+` }); d := receive(10 * time.Second).(node.DownMsg); d.Ref == ref`, "true")
			if got, _ := n1.eval(`d.Reason`); !strings.Contains(got, want) {
				t.Fatalf("monitored process went down with %s, want %q", got, want)
			}
			n1.must(`1 + 1`, "2")
		})
	}
}

// The report that opened this: a timer callback panicking in a literal
// spawned on another node ended that node. Now the spawned process exits
// with the refusal, its link on the first node gets it, and both nodes
// serve on; so does an rpc into a function that tries it.
func TestRemoteEscapeRefused(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "rs1@localhost", port)
	n2 := startShell(t, "rs2@localhost", port)
	n1.must(`connect("rs2@localhost")`, "true")
	n1.must(`trapExit(true)`, "false")
	n1.must(`p := spawnLink("rs2@localhost", func() { time.AfterFunc(0, func() { panic("x") }) }); m := receive(10 * time.Second).(node.ExitMsg); m.From == p`, "true")
	if got, _ := n1.eval(`m.Reason`); !strings.Contains(got, "time.AfterFunc is not allowed in the shell") {
		t.Fatalf("link got %s", got)
	}
	n2.must(`func Later() { time.AfterFunc(time.Millisecond, func() { panic("x") }) }`, "")
	got, _ := n1.eval(`rpc("rs2@localhost", "Later")`)
	if !strings.Contains(got, "time.AfterFunc is not allowed in the shell") {
		t.Fatalf("rpc: %s", got)
	}
	n1.must(`rpc("rs2@localhost", "strings.ToUpper", "alive")`, `"ALIVE"`)
	n2.must(`nodeName()`, `"rs2@localhost"`)
}

// http.Serve runs the handlers in the process that called it: a panic in
// one ends that process with the panic as its reason (and closes the
// server), the node lives on, and a killed server process stops serving.
func TestServeHTTPInProcess(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "web@localhost", port)
	serve := `parent := self()
srv, ref := spawnMonitor(func() {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hi from ", self() == srvPid()) })
	mux.HandleFunc("/boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil { panic(err) }
	send(parent, l.Addr().String())
	http.Serve(l, mux)
})
addr := receive(10 * time.Second)`
	n1.must(`var servers []node.Pid; func srvPid() node.Pid { return self() }`, "")
	if _, err := n1.eval(serve); err != nil {
		t.Fatal(err)
	}
	addr := n1.value(`addr`)
	body := httpGet(t, addr+"/ok")
	if body != "hi from true" {
		t.Fatalf("GET /ok: %q", body)
	}
	if resp, err := http.Get("http://" + addr + "/boom"); err == nil {
		resp.Body.Close()
		t.Fatalf("GET /boom answered %s: want the connection cut", resp.Status)
	}
	n1.must(`d := receive(10 * time.Second).(node.DownMsg); d.Ref == ref`, "true")
	if got, _ := n1.eval(`d.Reason`); !strings.Contains(got, "boom") {
		t.Fatalf("server process went down with %s, want the panic", got)
	}
	waitRefused(t, addr)

	// Killed: the server stops.
	if _, err := n1.eval(serve); err != nil {
		t.Fatal(err)
	}
	addr = n1.value(`addr`)
	if body := httpGet(t, addr+"/ok"); body != "hi from true" {
		t.Fatalf("GET /ok: %q", body)
	}
	n1.must(`exit(srv, node.Kill)`, "true")
	n1.must(`receive(10 * time.Second).(node.DownMsg).Reason`, ":killed")
	waitRefused(t, addr)
	n1.must(`1 + 1`, "2")
}

// value evaluates an expression that yields a string and returns it.
func (ts *testShell) value(expr string) string {
	ts.t.Helper()
	got, err := ts.eval(expr)
	if err != nil {
		ts.t.Fatal(err)
	}
	s, err := strconv.Unquote(got)
	if err != nil {
		ts.t.Fatalf("%s: %s is not a string", expr, got)
	}
	return s
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get("http://" + url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitRefused waits until nothing accepts connections on addr.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	c := &http.Client{Timeout: time.Second}
	for {
		resp, err := c.Get("http://" + addr + "/ok")
		if err != nil {
			return
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still serves", addr)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition under a deadline
	}
}

// cpuTime is the CPU time this test process has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitIdle waits until the test process uses less than a quarter of a
// core over a window of 200 ms, and fails if that has not happened within
// limit. It returns the CPU time of the idle window.
func waitIdle(t *testing.T, limit time.Duration) time.Duration {
	t.Helper()
	const window = 200 * time.Millisecond
	start := time.Now()
	for {
		c0 := cpuTime(t)
		time.Sleep(window) // a measuring window, not a wait for a condition
		used := cpuTime(t) - c0
		if used < window/4 {
			return used
		}
		if time.Since(start) > limit {
			t.Fatalf("still busy %v after the kill: %v of CPU in %v", time.Since(start), used, window)
		}
	}
}

// waitRunning waits until a process of the shell's node with label runs,
// and returns its pid as text.
func (ts *testShell) waitRunning(label string) string {
	ts.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, in := range ts.rt.node.Processes() {
			if in.Label == label {
				return in.Pid.String()
			}
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("no process %q", label)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition under a deadline
	}
}

// waitGone waits until no process of the node has the label.
func (ts *testShell) waitGone(label string) {
	ts.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		found := false
		for _, in := range ts.rt.node.Processes() {
			found = found || in.Label == label
		}
		if !found {
			return
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("process %q still there", label)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition under a deadline
	}
}

// A killed process stops running interpreted code: its interpreter is
// cancelled, a busy loop included, and the CPU goes idle. The same for the
// process of an rpc.
func TestKilledInterpretedCodeStops(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "cpu1@localhost", port)
	n2 := startShell(t, "cpu2@localhost", port)
	n1.must(`connect("cpu2@localhost")`, "true")

	n1.must(`p := spawn(func() { for {} }); p == p`, "true")
	n1.must(`exit(p, node.Kill)`, "true")
	t.Logf("spawned literal: %v of CPU in 200 ms after the kill", waitIdle(t, time.Second))

	n2.must(`func Forever() { for {} }`, "")
	n1.must(`task := async("cpu2@localhost", "Forever"); task == task`, "true")
	pid := n2.waitRunning("rpc Forever")
	killed := time.Now()
	n2.must(`exit(pid("`+pid+`"), node.Kill)`, "true")
	used := waitIdle(t, time.Second)
	t.Logf("rpc Forever: idle %v after the kill (%v of CPU in 200 ms)", time.Since(killed), used)
	n2.waitGone("rpc Forever")
	if got, _ := n1.eval(`await(task)`); !strings.Contains(got, "killed") {
		t.Fatalf("await of the killed call: %s", got)
	}
}

// within(d) bounds rpc, async and multicall; the call is cancelled on the
// node that runs it. An async task of a process that dies is cancelled
// too.
func TestCallTimeout(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "to1@localhost", port)
	n2 := startShell(t, "to2@localhost", port)
	n1.must(`connect("to2@localhost")`, "true")
	n2.must(`func Forever() { for {} }`, "")
	n1.must(`rpc("to2@localhost", "strings.ToUpper", "a", within(5*time.Second))`, `"A"`)
	// The helper is not called timeout: a script's own variable of that
	// name, common, would lose to it in later snippets.
	n1.must(`timeout := 10 * time.Millisecond`, "")
	n1.must(`receive(timeout)`, ":timeout")

	got, _ := n1.eval(`rpc("to2@localhost", "Forever", within(100*time.Millisecond))`)
	if !strings.Contains(got, "timeout") {
		t.Fatalf("rpc with a timeout: %s", got)
	}
	n2.waitGone("rpc Forever")
	waitIdle(t, time.Second)

	got, _ = n1.eval(`await(async("to2@localhost", "Forever", within(100*time.Millisecond)))`)
	if !strings.Contains(got, "timeout") {
		t.Fatalf("async with a timeout: %s", got)
	}
	n2.waitGone("rpc Forever")

	got, _ = n1.eval(`multicall([]string{"to2@localhost"}, "Forever", within(100*time.Millisecond))`)
	if !strings.Contains(got, "timeout") {
		t.Fatalf("multicall with a timeout: %s", got)
	}
	n2.waitGone("rpc Forever")

	if _, err := n1.eval(`rpc("to2@localhost", "Forever", within(0))`); err == nil || !strings.Contains(err.Error(), "must be positive") {
		t.Fatalf("within(0): %v", err)
	}

	// The process that started the task dies: the task is cancelled.
	n1.must(`w := spawn(func() { async("to2@localhost", "Forever"); receive() }); w == w`, "true")
	n2.waitRunning("rpc Forever")
	n1.must(`exit(w, node.Kill)`, "true")
	n2.waitGone("rpc Forever")
	waitIdle(t, time.Second)
}

// The callee's work is cancelled when the caller gives up (Ctrl-C in the
// shell cancels the snippet) or when its connection drops.
func TestCallCancelledWithCaller(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "cc1@localhost", port)
	n2 := startShell(t, "cc2@localhost", port)
	n1.must(`connect("cc2@localhost")`, "true")
	n2.must(`func Forever() { for {} }`, "")

	ctx, cancel := context.WithCancel(context.Background())
	n1.rt.evalCtx.Store(&ctx)
	done := make(chan error, 1)
	go func() {
		_, err := n1.rt.session.Eval(ctx, `rpc("cc2@localhost", "Forever")`)
		done <- err
	}()
	n2.waitRunning("rpc Forever")
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the rpc was not interrupted")
	}
	n1.rt.evalCtx.Store(nil)
	n2.waitGone("rpc Forever")
	waitIdle(t, time.Second)

	n1.must(`task := async("cc2@localhost", "Forever"); task == task`, "true")
	n2.waitRunning("rpc Forever")
	n1.must(`disconnect("cc2@localhost")`, "true")
	n2.waitGone("rpc Forever")
	waitIdle(t, time.Second)

	// The calling process is killed while it waits.
	n1.must(`w := spawn(func() { rpc("cc2@localhost", "Forever") }); w == w`, "true")
	n2.waitRunning("rpc Forever")
	n1.must(`exit(w, node.Kill)`, "true")
	n2.waitGone("rpc Forever")
	waitIdle(t, time.Second)
}

// Calls that look like escapes but are not: they run their function on
// the caller's goroutine (sync.OnceFunc, sort.Slice), or yaegi's
// restricted mode already turns them into panics (os.Exit, log.Fatal). In
// a process, each panic ends that process only. (signal.Notify runs no
// code either: it delivers to a channel.)
func TestNotEscapes(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "ne@localhost", port)
	for snippet, want := range map[string]string{
		`os.Exit(3)`:         "os.Exit(3)",
		`log.Fatal("fatal")`: "fatal",
		`sync.OnceFunc(func() { panic("once") })()`:                      "once",
		`sort.Slice([]int{2, 1}, func(i, j int) bool { panic("less") })`: "less",
	} {
		n1.must(`_, ref := spawnMonitor(func() { `+snippet+` }); d := receive(10 * time.Second).(node.DownMsg); d.Ref == ref`, "true")
		if got, _ := n1.eval(`d.Reason`); !strings.Contains(got, want) {
			t.Errorf("%s: the process went down with %s, want %q", snippet, got, want)
		}
	}
	n1.must(`1 + 1`, "2")
}

// An interpreted request body is read in the calling process, not on the
// transport's goroutine: a panic in its Read ends that process only, and
// a body that reads fine arrives.
func TestInterpretedRequestBody(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "body@localhost", port)
	n1.must(`type Bad struct{}; func (Bad) Read(p []byte) (int, error) { panic("in read") }`, "")
	n1.must(`type Once struct{ done bool }; func (o *Once) Read(p []byte) (int, error) { if o.done { return 0, io.EOF }; o.done = true; return copy(p, "sent"), nil }`, "")
	n1.must(`parent := self()
srv, _ := spawnMonitor(func() {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { b, _ := io.ReadAll(r.Body); fmt.Fprint(w, "got ", string(b)) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil { panic(err) }
	send(parent, "http://" + l.Addr().String() + "/")
	http.Serve(l, mux)
})
url := receive(10 * time.Second).(string); len(url) > 0`, "true")
	for _, call := range []string{
		`http.Post(url, "text/plain", Bad{})`,
		`http.NewRequest("POST", url, Bad{})`,
		`http.NewRequestWithContext(context.Background(), "POST", url, Bad{})`,
	} {
		n1.must(`_, ref := spawnMonitor(func() { `+call+` }); d := receive(10 * time.Second).(node.DownMsg); d.Ref == ref`, "true")
		if got, _ := n1.eval(`d.Reason`); !strings.Contains(got, "in read") {
			t.Fatalf("%s: the process went down with %s", call, got)
		}
	}
	n1.must(`resp, err := http.Post(url, "text/plain", &Once{}); b, _ := io.ReadAll(resp.Body); string(b)`, `"got sent"`)
	n1.must(`req, _ := http.NewRequest("POST", url, &Once{}); resp2, _ := http.DefaultClient.Do(req); b2, _ := io.ReadAll(resp2.Body); string(b2)`, `"got sent"`)
	n1.must(`resp3, _ := http.Post(url, "text/plain", strings.NewReader("host")); b3, _ := io.ReadAll(resp3.Body); string(b3)`, `"got host"`)
	n1.must(`exit(srv, node.Kill)`, "true")
}
