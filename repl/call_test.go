package repl

import (
	"fmt"
	"strings"
	"testing"
)

// call and reply are GenServer.call and GenServer.reply between shells:
// by name, by at(name, node) on another node, by pid; a server that does
// not answer in time, and one that is missing, fail the snippet.
func TestShellCallAndReply(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "call1@localhost", port)
	n2 := startShell(t, "call2@localhost", port)
	n2.must(`srv := spawn(func() { for { r := receive().(node.CallRequest); reply(r, []any{r.Request, r.From.Node}) } }); register("echo", srv)`, "true")
	n2.must(`call("echo", "local")`, `["local", "call2@localhost"]`)
	n1.must(`connect("call2@localhost")`, "true")
	n1.must(`call(at("echo", "call2@localhost"), 42)`, `[42, "call1@localhost"]`)
	n1.must(`p := whereis("echo"); p == nil`, "true")
	n1.must(fmt.Sprintf(`call(pid(%q), "by pid")`, n2.value(`fmt.Sprint(srv)`)), `["by pid", "call1@localhost"]`)

	n2.must(`register("mute", spawn(func() { receive(); receive() }))`, "true")
	if _, err := n1.eval(`call(at("mute", "call2@localhost"), 1, 100*time.Millisecond)`); err == nil || !strings.Contains(err.Error(), "call:") || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("a call to a server that does not answer: %v", err)
	}
	if _, err := n1.eval(`call("nope", 1)`); err == nil || !strings.Contains(err.Error(), "noproc") {
		t.Fatalf("a call to a missing name: %v", err)
	}
	n1.must(`1 + 1`, "2")
}
