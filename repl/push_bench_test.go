package repl

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkPush3 is push() from one shell to two others, three nodes in
// this process over loopback TCP: both phases (every node compiles its
// declarations with the pushed ones, then installs them), a version each
// time. The pushed code is a few declarations, as a demo's. ms/push-p50
// is the median push; issue 11's goal is under 100 ms, all or none.
func BenchmarkPush3(b *testing.B) {
	node := benchNodes(b)
	a, p1, p2 := node("pbench1@localhost"), node("pbench2@localhost"), node("pbench3@localhost")
	bg := context.Background()
	for _, p := range []*Runtime{p1, p2} {
		if err := a.dist.Connect(bg, p.dist.Name()); err != nil {
			b.Fatal(err)
		}
	}
	for _, src := range []string{
		`type Compute struct{}`,
		`func (Compute) Square(v int) int { return v * v }`,
		`func Greet(name string) string { return "hello, " + name }`,
	} {
		if _, err := a.session.Eval(bg, src); err != nil {
			b.Fatal(err)
		}
	}
	push := func() {
		r, err := a.Push(bg, 0)
		if err != nil || len(r.Took) != 3 {
			b.Fatalf("push: %+v %v", r, err)
		}
	}
	push() // warm up: the first compile of each node's interpreter
	samples := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		t := time.Now()
		push()
		samples[i] = time.Since(t)
	}
	b.StopTimer()
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1e3, "ms/push-p50")
	b.ReportMetric(float64(samples[len(samples)-1].Microseconds())/1e3, "ms/push-max")
	if v, err := a.CodeVersion(bg, p2.dist.Name()); err != nil || v != int64(b.N+1) {
		b.Fatalf("pbench3's version %d (%v), want %d", v, err, b.N+1)
	}
}
