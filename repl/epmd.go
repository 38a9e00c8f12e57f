package repl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/gonode/gonode/dist/epmd"
)

// gonode epmd is a port mapper that outlives nodes, as epmd is: the first
// node on a host starts it with -daemon when none answers, so that no
// node's exit takes the others' names away. Its options are epmd's, with
// one dash (two work too).

// EPMDUsage is gonode epmd's help.
const EPMDUsage = `Usage: gonode epmd [-port N] [-daemon | -names | -kill]

Runs the port mapper (Erlang's epmd protocol) on every interface, or on the
addresses in $ERL_EPMD_ADDRESS and loopback. The port is -port, else
$ERL_EPMD_PORT, else 4369.

  -daemon  start it in the background, detached, and return once it listens
  -names   list the names registered with the running port mapper
  -kill    stop the running port mapper (refused while names are registered)
`

// RunEPMD runs gonode epmd with its arguments and returns its exit code.
func RunEPMD(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gonode epmd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, EPMDUsage) }
	port := fs.Int("port", 0, "")
	daemon := fs.Bool("daemon", false, "")
	names := fs.Bool("names", false, "")
	kill := fs.Bool("kill", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gonode epmd: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	addr := epmd.AddrFromEnv()
	if *port != 0 {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	switch {
	case *names:
		entries, err := epmd.Names(ctx, addr)
		if err != nil {
			fmt.Fprintf(stderr, "gonode epmd: cannot connect to the port mapper at %s: %v\n", addr, err)
			return 1
		}
		_, p, _ := net.SplitHostPort(addr)
		fmt.Fprintf(stdout, "epmd: up and running on port %s with data:\n", p)
		for _, e := range entries {
			fmt.Fprintf(stdout, "name %s at port %d\n", e.Name, e.Port)
		}
		return 0
	case *kill:
		ok, err := epmd.Kill(ctx, addr)
		if err != nil {
			fmt.Fprintf(stderr, "gonode epmd: cannot connect to the port mapper at %s: %v\n", addr, err)
			return 1
		}
		if !ok {
			fmt.Fprintln(stdout, "Killing not allowed - living nodes in database.")
			return 1
		}
		waitGone(ctx, addr)
		fmt.Fprintln(stdout, "Killed")
		return 0
	case *daemon:
		if err := startEPMDDaemon(ctx, addr); err != nil {
			fmt.Fprintf(stderr, "gonode epmd: %v\n", err)
			return 1
		}
		return 0
	}
	sctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := epmd.Standalone(sctx, addr, nil); err != nil {
		fmt.Fprintf(stderr, "gonode epmd: %v\n", err)
		return 1
	}
	return 0
}

// startEPMDDaemon starts this program as `gonode epmd -port P`, detached
// from this process's session and terminal, and returns once it answers
// (or another port mapper does: two nodes may race to start one).
func startEPMDDaemon(ctx context.Context, addr string) error {
	self, err := selfPath()
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(self, "epmd", "-port", port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// No stdio: the daemon must not hold the terminal or a pipe a script
	// waits on.
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the port mapper daemon: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it if it fails at once; it is not our child for long otherwise
	for {
		if _, err := epmd.Names(ctx, addr); err == nil {
			return nil
		}
		select {
		case err := <-exited:
			if _, nerr := epmd.Names(ctx, addr); nerr == nil {
				return nil // another node's daemon won the port
			}
			return fmt.Errorf("the port mapper daemon exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("the port mapper daemon did not answer at %s: %w", addr, ctx.Err())
		case <-time.After(10 * time.Millisecond): // polling the daemon's port under the caller's deadline
		}
	}
}

// selfPath is the program to run as the daemon: this one, found as it was
// invoked (a test harness runs gonode under another name), else by
// os.Executable.
func selfPath() (string, error) {
	if p, err := exec.LookPath(os.Args[0]); err == nil {
		return p, nil
	}
	return os.Executable()
}

// StartPortMapperDaemon starts gonode epmd -daemon on the node's
// port-mapper port (Config.StartPortMapper).
func StartPortMapperDaemon(ctx context.Context) error {
	return startEPMDDaemon(ctx, epmd.AddrFromEnv())
}

// waitGone waits (within ctx) until the port mapper at addr, told to stop,
// no longer answers, so that whatever runs after "Killed" finds it gone.
func waitGone(ctx context.Context, addr string) {
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		c, cancel := context.WithTimeout(ctx, time.Second)
		_, err := epmd.Names(c, addr)
		cancel()
		if err != nil || ctx.Err() != nil {
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}
