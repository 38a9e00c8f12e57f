package repl

import (
	"context"
	"testing"
	"time"

	"github.com/gonode/gonode/cluster/global"
	"github.com/gonode/gonode/cluster/pg"
	"github.com/gonode/gonode/cluster/placement"
	"github.com/gonode/gonode/proc"
)

// TestEmbedRunsClusterServices: an embedded node runs the three services
// from the start, a peer's global name and group members reach it, and
// Close stops them with the node.
func TestEmbedRunsClusterServices(t *testing.T) {
	port := freeEPMDPort(t)
	a := startEmbedded(t, port, EmbedConfig{Name: "ca@localhost"})
	b := startEmbedded(t, port, EmbedConfig{Name: "cb@localhost"})
	for _, e := range []*Embedded{a, b} {
		for _, name := range []string{global.ServerName, pg.DefaultScope, placement.ServerName} {
			if _, ok := e.Dist().Proc().Whereis(name); !ok {
				t.Fatalf("%s: no process registered as %s", e.Name(), name)
			}
		}
	}
	if err := b.Dist().Connect(context.Background(), a.Name()); err != nil {
		t.Fatal(err)
	}
	p, err := a.Dist().Proc().Attach(proc.SpawnOptions{Label: "member"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.rt.cluster.global.Register(ctx, "svc", p.Pid()); err != nil {
		t.Fatal(err)
	}
	if err := a.rt.cluster.pg.Join("room", p.Pid()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "b sees a's name, member and record", func() bool {
		_, ok := b.rt.cluster.global.Whereis("svc")
		return ok && len(b.rt.cluster.pg.Members("room")) == 1 && len(b.rt.cluster.placement.Loads()) == 2
	})
	a.Close()
	select {
	case <-a.rt.cluster.pg.Done():
	default:
		t.Fatal("a's pg scope still runs after Close")
	}
	select {
	case <-a.rt.cluster.placement.Done():
	default:
		t.Fatal("a's placement process still runs after Close")
	}
	waitUntil(t, "b drops a's name, member and record", func() bool {
		_, ok := b.rt.cluster.global.Whereis("svc")
		return !ok && len(b.rt.cluster.pg.Members("room")) == 0 && len(b.rt.cluster.placement.Loads()) == 1
	})
}
