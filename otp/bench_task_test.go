package otp_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gonode/gonode/otp"
)

// BenchmarkTaskStream runs TaskStream over 10,000 small items on this node
// (one task process, one result and one DOWN message per item), at the
// default concurrency and at a wider one, in order and not. It reports
// items/s: the BEAM's figure for the same work is Task.async_stream(1..10_000,
// fn x -> x * 2 end) |> Stream.run().
func BenchmarkTaskStream(b *testing.B) {
	const items = 10_000
	in := taskItems(items)
	double := func(ctx context.Context, item any) (any, error) { return item.(int) * 2, nil }
	for _, c := range []struct {
		name string
		o    otp.StreamOptions
	}{
		{"default", otp.StreamOptions{}},
		{"unordered", otp.StreamOptions{Unordered: true}},
		{"max64", otp.StreamOptions{MaxConcurrency: 64}},
	} {
		b.Run(c.name, func(b *testing.B) {
			n, _ := serverNode(b)
			p := serverSelf(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rs := otp.TaskStream(p, in, double, c.o)
				if len(rs) != items || rs[items-1].Err != nil {
					b.Fatal(fmt.Sprint(rs[items-1]))
				}
			}
			b.ReportMetric(float64(items*b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
