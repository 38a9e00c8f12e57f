package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary stand in for gonode: scripts run
// "exec gonode ..." and get the real command line, run in a process of its
// own.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gonode": func() { os.Exit(run(os.Args[1:])) },
	})
}

// TestScripts runs the scripted sessions in testdata/*.txtar, in parallel.
// Each script gets a port mapper of its own ($ERL_EPMD_PORT) so that its
// nodes never meet another script's, and its work directory as $HOME so
// that ~/.erlang.cookie and the history file stay inside it.
//
// Besides testscript's builtins, scripts can use:
//
//	waitfile FILE             wait (up to 20 s) until FILE exists: a peer
//	                          started in the background writes it at the
//	                          end of its setup script, once it is serving
//	exitcode N PROG [ARGS...] run PROG as exec does and check that it
//	                          exits with status N
func TestScripts(t *testing.T) {
	// A script's first node starts a port mapper daemon, which outlives the
	// script's nodes: stop each once every script and its background
	// nodes are done.
	var daemons portList
	t.Cleanup(func() {
		for _, port := range daemons.all() {
			stopPortMapper(t, port)
		}
	})
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			port, err := portMapperPort()
			if err != nil {
				return err
			}
			env.Setenv("ERL_EPMD_PORT", strconv.Itoa(port))
			env.Setenv("HOME", env.WorkDir)
			daemons.add(strconv.Itoa(port))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile": cmdWaitFile,
			"exitcode": cmdExitCode,
		},
	})
}

func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfile: %s did not appear within 20s (did the background node fail?)", args[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

var (
	portsMu sync.Mutex
	ports   = map[int]bool{} // handed out to a script already
)

// portMapperPort picks a free loopback port for a script's port mapper.
// It takes it below the kernel's ephemeral range when it can: the port is
// left unbound between nodes (the node serving the port mapper may exit
// and another take over), and there a listener on port 0 or an outgoing
// connection elsewhere in the suite cannot take it meanwhile.
func portMapperPort() (int, error) {
	lo := ephemeralLow()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 200 {
		p := 0
		if lo > 12000 {
			p = 10000 + rand.IntN(lo-10000)
		}
		if ports[p] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		p = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !ports[p] {
			ports[p] = true
			return p, nil
		}
	}
	return 0, errors.New("no free loopback port for the port mapper")
}

// ephemeralLow is the lowest port the kernel hands out for port 0, or 0 if
// that is unknown.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	var lo, hi int
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &lo, &hi); err != nil {
		return 0
	}
	return lo
}

// portList collects the port-mapper ports the scripts use.
type portList struct {
	mu    sync.Mutex
	ports []string // guarded by mu
}

func (l *portList) add(p string) {
	l.mu.Lock()
	l.ports = append(l.ports, p)
	l.mu.Unlock()
}

func (l *portList) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ports...)
}
