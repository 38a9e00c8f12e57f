package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
	node2, node2Out := startPeer(t, home, port, "ptynode2@localhost")
	t.Cleanup(func() {
		_ = node2.Process.Signal(os.Interrupt)
		_ = node2.Wait()
	})
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(gonodeBinary(t), args...)
		cmd.Env, cmd.Dir = append(os.Environ(), "HOME="+home, "ERL_EPMD_PORT="+port), home
		return cmd
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
	// Ctrl-C once the snippet runs, as it says: sent sooner, it could come
	// before the snippet starts, where Ctrl-C ends the node.
	tm.send(`fmt.Println("loop" + "ing"); for {}` + "\r")
	at = tm.waitFor(at, `\nlooping\r?\n`)
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
		t.Fatalf("node2 after the remote shell left: %v\n%s\nnode2:\n%s", err, out, node2Out)
	}
}

// startPeer starts a gonode node named name in the background, with a
// function Pythagoras, and waits until it serves.
func startPeer(t *testing.T, home, port, name string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	ready := filepath.Join(home, name+".ready")
	script := filepath.Join(home, name+".gos")
	if err := os.WriteFile(script, []byte("func Pythagoras(a, b int) int { return a*a + b*b }\n"+
		"_ = os.WriteFile("+strconv.Quote(ready)+", nil, 0o644)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gonodeBinary(t), "--sname", name, "--cookie", "c", "--no-halt", script)
	cmd.Env, cmd.Dir = append(os.Environ(), "HOME="+home, "ERL_EPMD_PORT="+port), home
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return cmd, out
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("%s did not start:\n%s", name, out)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition under a deadline
	}
}

// syncBuffer is a bytes.Buffer for a process's output, read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer // guarded by mu
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The node attached to going away ends an interactive remote shell at
// once, with exit code 1 and the reason: the read of the terminal is
// cancelled, so the terminal is restored.
func TestInteractiveRemoteShellNodeDown(t *testing.T) {
	home := t.TempDir()
	port := testport.Port(t)
	t.Cleanup(func() { stopPortMapper(t, port) })
	node2, _ := startPeer(t, home, port, "ptydown@localhost")
	tm := startTermPort(t, home, port, "--remsh", "ptydown@localhost", "--cookie", "c")
	at := tm.waitFor(0, `ptydown@localhost> `)
	if err := node2.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	_ = node2.Wait()
	tm.waitFor(at, `\*\* node ptydown@localhost down: .*; the remote shell is over`)
	select {
	case <-tm.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the remote shell did not end:\n%s", tm.screen()[at:])
	}
	var ee *exec.ExitError
	if err := tm.cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1", err)
	}
}
