package global_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/cluster/global"
	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// A program that embeds a node runs one name server on it, then registers
// and finds names cluster-wide. (Compiled, not run: it needs a port
// mapper and peers.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	node, err := dist.Start(ctx, dist.Config{Name: "app@localhost", Cookie: "secret"})
	if err != nil {
		panic(err)
	}
	defer node.Close()
	names, err := global.Start(node, global.Options{Resolve: global.ResolveNotify})
	if err != nil {
		panic(err)
	}
	defer names.Close()
	_ = node.Connect(ctx, "peer@localhost") // the peer runs global.Start too

	leader, _ := node.Proc().Spawn(func(p *proc.Process) {
		for {
			m, err := p.Receive(p.Context())
			if err != nil {
				return
			}
			if c, ok := m.(global.Conflict); ok { // lost the name after a partition healed
				fmt.Println("no longer", c.Name, "; it is", c.Winner)
				return
			}
		}
	})
	switch err := names.Register(ctx, "leader", leader); {
	case err == nil:
	case errors.Is(err, global.ErrNameTaken):
		// another process, somewhere, leads
	default:
		// global.ErrTimeout: a peer did not answer in time; try again later
	}
	if pid, ok := names.Whereis("leader"); ok {
		_ = names.Send("leader", "hello") // or node.Proc().Send(pid, ...)
		_ = pid
	}
}
