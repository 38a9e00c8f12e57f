package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testport"

	"github.com/creack/pty"
)

// The interactive shell is tested through a pseudo-terminal, as a person
// uses it: testscript's stdin is never a terminal, so readline would not
// be interactive there.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// gonodeBinary builds the command once per test run.
func gonodeBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gonode-pty")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "gonode")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building gonode: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// term is a gonode shell running on a pseudo-terminal.
type term struct {
	t    *testing.T
	f    *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	buf  bytes.Buffer // everything the shell wrote, guarded by mu
	done chan struct{}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[a-zA-Z]|\r`)

func startTerm(t *testing.T, home string, args ...string) *term {
	t.Helper()
	port := testport.Port(t)
	t.Cleanup(func() { stopPortMapper(t, port) }) // runs after the shell is gone (cleanups run last first)
	return startTermPort(t, home, port, args...)
}

// startTermPort is startTerm with the port mapper on port, which the
// caller stops: the shell meets other nodes of the test there.
func startTermPort(t *testing.T, home, port string, args ...string) *term {
	t.Helper()
	cmd := exec.Command(gonodeBinary(t), args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "ERL_EPMD_PORT="+port, "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, f: f, cmd: cmd, done: make(chan struct{})}
	go tm.copyOut()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		f.Close()
		<-tm.done
	})
	return tm
}

// copyOut collects what the shell writes until the terminal closes.
func (tm *term) copyOut() {
	defer close(tm.done)
	b := make([]byte, 4096)
	for {
		n, err := tm.f.Read(b)
		tm.mu.Lock()
		tm.buf.Write(b[:n])
		tm.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// screen returns what the shell printed, without escape sequences.
func (tm *term) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return ansi.ReplaceAllString(tm.buf.String(), "")
}

// waitFor waits until the output matches pattern, counting from offset
// from: it returns the offset after the match.
func (tm *term) waitFor(from int, pattern string) int {
	tm.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := tm.screen()
		if from <= len(s) {
			if loc := re.FindStringIndex(s[from:]); loc != nil {
				return from + loc[1]
			}
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %q; the screen after offset %d:\n%s", pattern, from, s[min(from, len(s)):])
		}
		time.Sleep(10 * time.Millisecond) // polling the screen under a deadline
	}
}

func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := tm.f.Write([]byte(s)); err != nil {
		tm.t.Fatal(err)
	}
}

func TestInteractiveShell(t *testing.T) {
	home := t.TempDir()
	tm := startTerm(t, home, "--sname", "tty@localhost", "--cookie", "c")
	at := tm.waitFor(0, `tty@localhost> `)

	// A value, printed as iex prints it.
	tm.send("1 + 2\r")
	at = tm.waitFor(at, `\n3\n`)
	at = tm.waitFor(at, `tty@localhost> `)

	// An open func gives the continuation prompt until it is closed.
	tm.send("func Sq(v int) int {\r")
	at = tm.waitFor(at, `\.\.\.> `)
	tm.send("return v * v }\r")
	at = tm.waitFor(at, `tty@localhost> `)
	tm.send("Sq(9)\r")
	at = tm.waitFor(at, `\n81\n`)
	at = tm.waitFor(at, `tty@localhost> `)

	// Ctrl-C at the prompt clears the line.
	tm.send("this is not go")
	tm.send("\x03")
	at = tm.waitFor(at, `tty@localhost> `)
	tm.send("\"after\"\r")
	at = tm.waitFor(at, `"after"\n`)

	// Ctrl-C while a snippet runs cancels that snippet only: the process
	// spawned before keeps running.
	tm.send(`register("keeper", spawn(func() { for { m := receive(); send(m.(node.Pid), "alive") } }))` + "\r")
	at = tm.waitFor(at, `true\n`)
	// Ctrl-C once the snippet runs, as it says: sent sooner, it could come
	// before the snippet starts, where Ctrl-C ends the node.
	tm.send(`fmt.Println("loop" + "ing"); for {}` + "\r")
	at = tm.waitFor(at, `\nlooping\r?\n`)
	tm.send("\x03")
	at = tm.waitFor(at, `\*\* \(interrupted\)`)
	tm.send(`send("keeper", self()); receive(5*time.Second)` + "\r")
	at = tm.waitFor(at, `"alive"\n`)

	// Ctrl-D leaves and stops the node; the history file has the inputs.
	tm.send("\x04")
	select {
	case <-tm.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("Ctrl-D did not end the shell:\n%s", tm.screen())
	}
	hist, err := os.ReadFile(filepath.Join(home, ".gonode_history"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hist), "Sq(9)") || !strings.Contains(string(hist), "1 + 2") {
		t.Fatalf("history file:\n%s", hist)
	}
}

func TestInteractiveQuit(t *testing.T) {
	tm := startTerm(t, t.TempDir(), "--sname", "q@localhost", "--cookie", "c")
	at := tm.waitFor(0, `q@localhost> `)
	tm.send("quit()\r")
	select {
	case <-tm.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("quit() did not end the shell:\n%s", tm.screen()[at:])
	}
	if err := tm.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

// BenchmarkStartToPrompt measures the time from starting the binary to
// its first prompt on a terminal: node start, port-mapper registration,
// interpreter and prelude.
func BenchmarkStartToPrompt(b *testing.B) {
	t := &testing.T{}
	bin := gonodeBinary(t)
	port := testport.Port(b)
	b.Cleanup(func() { stopPortMapper(b, port) })
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "--sname", fmt.Sprintf("bench%d@localhost", i), "--cookie", "c")
		cmd.Env = append(os.Environ(), "HOME="+b.TempDir(), "ERL_EPMD_PORT="+port, "TERM=xterm")
		f, err := pty.Start(cmd)
		if err != nil {
			b.Fatal(err)
		}
		var out []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(out, []byte("@localhost> ")) {
			n, err := f.Read(buf)
			if err != nil {
				b.Fatalf("no prompt: %v\n%s", err, out)
			}
			out = append(out, buf[:n]...)
		}
		b.StopTimer()
		_, _ = f.Write([]byte{4}) // Ctrl-D
		_ = cmd.Wait()
		f.Close()
		b.StartTimer()
	}
}

func TestInteractiveAsyncOutputAndCompletion(t *testing.T) {
	tm := startTerm(t, t.TempDir(), "--sname", "async@localhost", "--cookie", "c")
	at := tm.waitFor(0, `async@localhost> `)

	// Output of a process arrives while a line is half typed: it is printed
	// above the prompt, and the half-typed line survives.
	tm.send(`spawn(func() { time.Sleep(300 * time.Millisecond); fmt.Println("async hello") })` + "\r")
	at = tm.waitFor(at, `<async@localhost\.\d+\.0>\n`)
	tm.send(`"12`)
	at = tm.waitFor(at, `async hello\n`)
	tm.send(`34"` + "\r")
	at = tm.waitFor(at, `"1234"\n`)

	// Tab completes helpers and names declared in the session.
	tm.send("func Pythagoras(a, b int) int { return a*a + b*b }\r")
	at = tm.waitFor(at, `async@localhost> `)
	tm.send("Pyth\t")
	tm.send("(3, 4)\r")
	at = tm.waitFor(at, `\n25\n`)
	tm.send("registe\t")
	tm.send("ed()\r")                                                                                        // several candidates: Tab completes their common prefix
	tm.waitFor(at, `\["erlang_mesh", "global_name_server", "net_kernel", "pg", "placement_load", "rex"\]\n`) // the cluster services' processes and the Erlang dialect's
}

// A SIGINT sent to a node waiting at its prompt ends it with exit code
// 130: at a prompt Ctrl-C is a key (the terminal is raw), so a SIGINT can
// only come from someone else. (A Ctrl-C typed in the moment between a
// line and its snippet is dropped instead: repl's
// TestInterruptDependsOnWhereTheShellIs.) The prompt may be drawn a moment
// before the terminal is raw, so the signal is sent again until the node
// ends.
func TestInteractiveSIGINTAtPromptExits130(t *testing.T) {
	tm := startTerm(t, t.TempDir(), "--sname", "int@localhost", "--cookie", "c")
	tm.waitFor(0, `int@localhost> `)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for ended := false; !ended; {
		if err := tm.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
		select {
		case <-tm.done:
			ended = true
		case <-tick.C:
		case <-deadline:
			t.Fatalf("SIGINT at the prompt did not end the node:\n%s", tm.screen())
		}
	}
	err := tm.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want exit status 130", err)
	}
}
