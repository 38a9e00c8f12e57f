package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/internal/testport"

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
// nodes never meet another script's, two free ports for gossip
// ($GOSSIP_PORT, $GOSSIP_PORT2), one for the web view ($WEB_PORT),
// and its work directory as $HOME so that ~/.erlang.cookie and the
// history file stay inside it.
//
// Besides testscript's builtins, scripts can use:
//
//	waitfile FILE             wait (up to 20 s) until FILE exists: a peer
//	                          started in the background writes it at the
//	                          end of its setup script, once it is serving
//	exitcode N PROG [ARGS...] run PROG as exec does and check that it
//	                          exits with status N
//
// and the program embedsvc: examples/embed, a Go program that embeds a
// node, built once for the run (embed_test.go).
func TestScripts(t *testing.T) {
	// A script's first node starts a port mapper daemon, which outlives the
	// script's nodes: stop each once every script and its background
	// nodes are done.
	var daemons portList
	bin := buildEmbedExample(t) // embedsvc, for the scripts' PATH
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
			port, err := testport.Free()
			if err != nil {
				return err
			}
			env.Setenv("ERL_EPMD_PORT", strconv.Itoa(port))
			// Gossip ports for the discovery scripts' --gossip-port.
			for _, v := range []string{"GOSSIP_PORT", "GOSSIP_PORT2"} {
				gp, err := testport.Free()
				if err != nil {
					return err
				}
				env.Setenv(v, strconv.Itoa(gp))
			}
			// A free port for the web view's scripts (--web :$WEB_PORT).
			wp, err := testport.Free()
			if err != nil {
				return err
			}
			env.Setenv("WEB_PORT", strconv.Itoa(wp))
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
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
