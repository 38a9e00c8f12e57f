package metrics

import (
	"context"
	"testing"

	"github.com/gonode/gonode/proc"
)

// BenchmarkGather10k is one scrape's gathering (the standard collectors
// included) on a node of 10,000 processes: what a node pays per scrape.
func BenchmarkGather10k(b *testing.B) {
	pn, err := proc.NewNode("nonode@nohost", 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pn.Stop(context.Background()) })
	for range 10000 {
		if _, err := pn.SpawnHandler(func(*proc.Process, any) {}, proc.SpawnOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reg := NewRegistry(pn, nil)
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
