package erlang

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// TestInteropBenchPeer is the gonode side of scripts/bench-interop.sh,
// not a test: with GONODE_INTEROP_PEER=name@host (and
// GONODE_INTEROP_COOKIE) it runs a node speaking the Erlang dialect,
// registered in the port mapper of $ERL_EPMD_PORT, with the two
// processes the script's BEAM driver talks to, until SIGTERM or SIGINT:
//
//   - echo answers {From, Msg} with Msg (the ping-pong);
//   - sink counts what it gets and answers {From, done} with {ack,
//     Count}, then counts from 0 again (the stream).
//
// erl -sname b runs the same two as BEAM code, so that the driver
// measures a BEAM peer and a gonode peer alike.
func TestInteropBenchPeer(t *testing.T) {
	name := os.Getenv("GONODE_INTEROP_PEER")
	if name == "" {
		t.Skip("the gonode peer of scripts/bench-interop.sh: runs only with GONODE_INTEROP_PEER set")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	n, err := dist.Start(ctx, dist.Config{Name: name, Cookie: os.Getenv("GONODE_INTEROP_COOKIE"), Foreign: Protocol()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	pn := n.Proc()
	if err := StartSystem(pn, nil); err != nil {
		t.Fatal(err)
	}
	// echo is a process with a receive loop, as the BEAM peer's is (a
	// handler-style process would start a goroutine per message).
	echo := func(p *proc.Process) {
		for {
			msg, err := p.Receive(nil)
			if err != nil {
				return
			}
			if m, ok := msg.(etf.Tuple); ok && len(m) == 2 {
				if from, ok := m[0].(proc.Pid); ok {
					_ = p.Send(from, m[1])
				}
			}
		}
	}
	_, err = pn.SpawnOpt(echo, proc.SpawnOptions{Name: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	count := 0 // owned by sink's handler, which runs one message at a time
	if _, err := pn.SpawnHandler(func(p *proc.Process, msg any) {
		if m, ok := msg.(etf.Tuple); ok && len(m) == 2 && m[1] == proc.Atom("done") {
			if from, ok := m[0].(proc.Pid); ok {
				_ = p.Send(from, etf.Tuple{proc.Atom("ack"), count})
				count = 0
				return
			}
		}
		count++
	}, proc.SpawnOptions{Name: "sink"}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready", name)
	<-ctx.Done()
}
