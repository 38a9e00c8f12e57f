//go:build linux

package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/gonode/gonode/internal/testport"
)

// The terminal's modes after the shell ends are those it had before, on
// every way out: a SIGTERM and a peer's halt end the shell while readline
// holds the terminal in raw mode waiting for a key.
func TestTerminalModesRestored(t *testing.T) {
	for _, how := range []string{"SIGTERM", "peer halt"} {
		t.Run(how, func(t *testing.T) {
			port := testport.Port(t)
			t.Cleanup(func() { stopPortMapper(t, port) })
			tm, tty, before := startOnTTY(t, port, "--sname", "modes@localhost", "--cookie", "c")
			tm.waitFor(0, `modes@localhost> `)
			if raw := termios(t, tty); raw.Lflag&unix.ECHO != 0 {
				t.Fatal("the prompt waits with the terminal still echoing: this test would prove nothing")
			}
			switch how {
			case "SIGTERM":
				_ = tm.cmd.Process.Signal(syscall.SIGTERM)
			case "peer halt":
				peer := exec.Command(gonodeBinary(t), "--sname", "peer@localhost", "--cookie", "c", "-e", `cast("modes@localhost", "node.Halt")`)
				peer.Env = append(os.Environ(), "HOME="+t.TempDir(), "ERL_EPMD_PORT="+port)
				if out, err := peer.CombinedOutput(); err != nil {
					t.Fatalf("peer: %v\n%s", err, out)
				}
			}
			_ = tm.cmd.Wait()
			if after := termios(t, tty); !sameModes(before, after) {
				t.Fatalf("terminal modes after %s:\n%+v\nbefore:\n%+v", how, after, before)
			}
		})
	}
}

// startOnTTY starts gonode on a new pseudo-terminal and returns it with
// the terminal's side (kept open to read its modes) and its modes before
// the start.
func startOnTTY(t *testing.T, port string, args ...string) (*term, *os.File, *unix.Termios) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	before := termios(t, tty)
	cmd := exec.Command(gonodeBinary(t), args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "ERL_EPMD_PORT="+port, "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, f: ptmx, cmd: cmd, done: make(chan struct{})}
	go tm.copyOut()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tty.Close()
		ptmx.Close()
		<-tm.done
	})
	return tm, tty, before
}

func termios(t *testing.T, f *os.File) *unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio
}

func sameModes(a, b *unix.Termios) bool {
	return a.Iflag == b.Iflag && a.Oflag == b.Oflag && a.Cflag == b.Cflag && a.Lflag == b.Lflag && a.Cc == b.Cc
}
