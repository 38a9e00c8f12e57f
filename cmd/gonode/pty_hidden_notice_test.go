package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gonode/gonode/internal/testport"
)

// The node up/down notices above the prompt are about visible nodes, as
// list() is: a remote shell attaching (a hidden node) prints none, a
// visible peer connecting does.
func TestNoticesSkipHiddenNodes(t *testing.T) {
	port := testport.Port(t)
	t.Cleanup(func() { stopPortMapper(t, port) })
	tm := startTermPort(t, t.TempDir(), port, "--sname", "seen@localhost", "--cookie", "c")
	at := tm.waitFor(0, `seen@localhost> `)
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(gonodeBinary(t), args...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "ERL_EPMD_PORT="+port)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("--remsh", "seen@localhost", "--sname", "hiddenone@localhost", "--cookie", "c", "-e", "nodeName()")
	run("--sname", "visible@localhost", "--cookie", "c", "-e", `connect("seen@localhost")`)
	tm.waitFor(at, `\*\* node visible@localhost up`)
	if s := tm.screen(); strings.Contains(s, "hiddenone") {
		t.Fatalf("a notice about the hidden remsh node:\n%s", s)
	}
}
