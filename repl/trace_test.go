package repl

import (
	"strings"
	"testing"

	"github.com/gonode/gonode/otp"
)

// trace() of a process of another node prints its events here; the rate
// limit stops a trace and says so; untrace() stops it; getState reads a
// server here and there, and refuses a process that is not one.
func TestTraceRemoteProcess(t *testing.T) {
	port := freeEPMDPort(t)
	a := startShell(t, "tracea@localhost", port)
	b := startShell(t, "traceb@localhost", port)
	a.must(`connect("traceb@localhost")`, "true")
	b.must(`func Echo() { for { m := receive(); if m == "stop" { return }; send(m.([]any)[0], m.([]any)[1]) } }`, "")
	b.must(`register("echo", spawn(Echo))`, "true")
	b.must(`func EchoPid() node.Pid { return whereis("echo").(node.Pid) }`, "")
	a.must(`echo := as[node.Pid](rpc("traceb@localhost", "EchoPid"))`, "")
	echo := a.value(`echo.String()`)
	echo = strings.Trim(echo, `"`)
	self := strings.Trim(a.value(`self().String()`), `"`)

	a.must(`trace(echo)`, "true")
	a.must(`send(echo, []any{self(), "hi"})`, `[`+self+`, "hi"]`)
	a.waitOutput(`[trace] ` + echo + ` received [` + self + `, "hi"]`)
	a.waitOutput(`[trace] ` + echo + ` sent "hi" to ` + self)
	a.must(`receive()`, `"hi"`)
	a.must(`send(echo, "stop")`, `"stop"`)
	a.waitOutput(`[trace] ` + echo + ` exited: :normal`)
	a.must(`untrace()`, "false") // the trace ended with its process

	// The rate limit, applied on the traced process's node.
	b.must(`register("sink", spawn(func() { for { receive() } }))`, "true")
	b.must(`func SinkPid() node.Pid { return whereis("sink").(node.Pid) }`, "")
	a.must(`sink := as[node.Pid](rpc("traceb@localhost", "SinkPid"))`, "")
	a.must(`trace(at("sink", "traceb@localhost"), traceLimit(2, time.Hour), "receives")`, "true")
	a.must(`for i := 0; i < 5; i++ { send(sink, i) }`, "")
	a.waitOutput("[trace] stopped: more than 2 events in 1h0m0s")
	if strings.Contains(a.out.String(), " received 2\n") {
		t.Errorf("an event past the limit was printed:\n%s", a.out.String())
	}

	// getState of a server on either node (started from Go: the shell
	// starts none); of a plain process, an error saying so.
	for _, n := range []*testShell{a, b} {
		if _, err := otp.StartServerOn(n.rt.node, otp.Server{}, 42, otp.ServerOptions{Name: "counter"}); err != nil {
			t.Fatal(err)
		}
	}
	a.must(`getState("counter")`, "42")
	a.must(`getState(at("counter", "traceb@localhost"))`, "42")
	if _, err := a.eval(`trace(at("nobody", "traceb@localhost"))`); err == nil || !strings.Contains(err.Error(), `no process is registered as "nobody" on traceb@localhost`) {
		t.Errorf("trace of a name not registered: %v", err)
	}
	b.must(`func CounterPid() node.Pid { return whereis("counter").(node.Pid) }`, "")
	a.must(`getState(as[node.Pid](rpc("traceb@localhost", "CounterPid")))`, "42")
	if _, err := a.eval(`getState(sink)`); err == nil || !strings.Contains(err.Error(), "not a server") {
		t.Errorf("getState of a plain process: %v", err)
	}
}

// traceNode prints the messages between this node and the peer.
func TestTraceNode(t *testing.T) {
	port := freeEPMDPort(t)
	a := startShell(t, "tnodea@localhost", port)
	b := startShell(t, "tnodeb@localhost", port)
	a.must(`connect("tnodeb@localhost")`, "true")
	b.must(`register("box", spawn(func() { for { receive() } }))`, "true")
	a.must(`traceNode("tnodeb@localhost")`, "true")
	a.must(`send(at("box", "tnodeb@localhost"), "over")`, `"over"`)
	a.waitOutput(`[trace] tnodea@localhost -> tnodeb@localhost: reg_send "over" from `)
	a.must(`untrace("tnodeb@localhost")`, "true")
}
