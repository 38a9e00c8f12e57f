package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testport"
)

// gonode --remsh on a terminal: the prompt names the node attached to,
// Tab completes the remote session's names, Ctrl-C cancels a remote
// snippet and the prompt comes back, and Ctrl-D leaves with the node
// still running.
func TestInteractiveRemoteShell(t *testing.T) {
	home := t.TempDir()
	port := testport.Port(t)
	t.Cleanup(func() { stopPortMapper(t, port) }) // after both nodes are gone
	env := append(os.Environ(), "HOME="+home, "ERL_EPMD_PORT="+port)
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(gonodeBinary(t), args...)
		cmd.Env, cmd.Dir = env, home
		return cmd
	}

	script := filepath.Join(home, "node2.gos")
	if err := os.WriteFile(script, []byte("func Pythagoras(a, b int) int { return a*a + b*b }\n"+
		"_ = os.WriteFile(\"node2.ready\", nil, 0o644)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	node2 := run("--sname", "ptynode2@localhost", "--cookie", "c", "--no-halt", script)
	var node2Out strings.Builder
	node2.Stdout, node2.Stderr = &node2Out, &node2Out
	if err := node2.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = node2.Process.Signal(os.Interrupt)
		_ = node2.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(home, "node2.ready")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node2 did not start:\n%s", node2Out.String())
		}
		time.Sleep(10 * time.Millisecond) // polling a condition under a deadline
	}

	tm := startTermPort(t, home, port, "--remsh", "ptynode2@localhost", "--cookie", "c")
	at := tm.waitFor(0, `a remote shell on ptynode2@localhost .*\n`)
	at = tm.waitFor(at, `ptynode2@localhost> `)
	tm.send("nodeName()\r")
	at = tm.waitFor(at, `"ptynode2@localhost"\n`)

	// Tab completes the names of the remote session: node2's Pythagoras.
	tm.send("Pyth\t")
	tm.send("(3, 4)\r")
	at = tm.waitFor(at, `\n25\n`)

	// Ctrl-C cancels the remote snippet; the session goes on, its
	// variables kept.
	tm.send("x := 7\r")
	at = tm.waitFor(at, `ptynode2@localhost> `)
	tm.send("for {}\r")
	time.Sleep(300 * time.Millisecond) // let the loop start; the outcome is checked below either way
	tm.send("\x03")
	at = tm.waitFor(at, `\*\* \(interrupted\)`)
	at = tm.waitFor(at, `ptynode2@localhost> `)
	tm.send("x * 6\r")
	at = tm.waitFor(at, `\n42\n`)

	// Ctrl-D leaves (with exit code 1, as a local shell does after a
	// failed snippet: the interrupted one); node2 runs on.
	tm.send("\x04")
	select {
	case <-tm.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("Ctrl-D did not end the remote shell:\n%s", tm.screen()[at:])
	}
	if s := tm.screen(); strings.Contains(s, "gonode:") || strings.Contains(s, " down") {
		t.Fatalf("leaving the remote shell:\n%s", s[at:])
	}
	out, err := run("--sname", "probe@localhost", "--cookie", "c", "-e", `rpc("ptynode2@localhost", "Pythagoras", 1, 1)`).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "2" {
		t.Fatalf("node2 after the remote shell left: %v\n%s\nnode2:\n%s", err, out, node2Out.String())
	}
}
