package testcluster

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// StartPeerProc starts this test binary again as a peer node in a process
// of its own, with env added to its environment (the test's TestMain or
// init reads it and runs the peer), and waits for the peer to print
// "ready". The test's cleanup closes the peer's stdin and waits for it,
// killing it by pid if it has not gone within WaitTime.
func StartPeerProc(t testing.TB, env ...string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(WaitTime):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	// The reader ends with the line or with the peer's stdout; the waiter
	// with the peer, which the cleanup above makes sure of.
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- l
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	select {
	case l := <-line:
		if strings.TrimSpace(l) != "ready" {
			t.Fatalf("peer %v: %q", env, l)
		}
	case <-time.After(WaitTime):
		t.Fatalf("peer %v: not ready", env)
	}
}
