package dist

import (
	"fmt"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// stressMessages is how many messages TestStressMillion sends in all: one
// million, or a quarter of it under the race detector, which slows every
// message down about tenfold (a million take 7 s there alone, more beside
// the other tests; see stress_race_test.go).
func stressMessages() int {
	if raceEnabled {
		return 250_000
	}
	return 1_000_000
}

// TestStressMillion sends a million messages between two nodes over
// loopback, in both directions at once: four senders on a to one receiver
// on b, which checks each sender's sequence as it goes (messages from
// several senders interleave, but each sender's stay in order), and one
// sender on b to a receiver on a. Nothing may be lost, duplicated or
// reordered.
func TestStressMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test: skipped under -short")
	}
	t.Parallel()
	total := stressMessages()
	const forward = 4 // senders on a; one more sender on b sends back
	per := total / (forward + 1)

	c := newCluster(t)
	a, b := c.start("a@localhost"), c.start("b@localhost")
	me := attach(t, a)
	if err := a.Connect(ctx(t), "b@localhost"); err != nil {
		t.Fatal(err)
	}

	// checker receives per messages from each of senders senders and
	// reports []any{"checked", count, problem} to me.
	checker := func(senders int) proc.Func {
		return func(p *proc.Process) {
			next := make([]int, senders)
			count, problem := 0, ""
			for count < senders*per {
				m, err := p.Receive(nil)
				if err != nil {
					return
				}
				count++
				t, ok := m.([]any)
				if !ok || len(t) != 2 {
					problem = fmt.Sprintf("message %d: %#v", count, m)
					break
				}
				s, ok1 := t[0].(int)
				i, ok2 := t[1].(int)
				if !ok1 || !ok2 || s < 0 || s >= senders {
					problem = fmt.Sprintf("message %d: %#v", count, m)
					break
				}
				if i != next[s] {
					problem = fmt.Sprintf("sender %d: got %d, want %d (lost or reordered)", s, i, next[s])
					break
				}
				next[s]++
			}
			_ = p.Send(me.Pid(), []any{"checked", p.Node().Name(), count, problem})
		}
	}
	sender := func(index int, to proc.Pid) proc.Func {
		return func(p *proc.Process) {
			for i := range per {
				if err := p.Send(to, []any{index, i}); err != nil {
					_ = p.Send(me.Pid(), []any{"send failed", p.Node().Name(), i, err.Error()})
					return
				}
			}
		}
	}

	onB, err := b.Proc().Spawn(checker(forward))
	if err != nil {
		t.Fatal(err)
	}
	onA, err := a.Proc().Spawn(checker(1))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range forward {
		if _, err := a.Proc().Spawn(sender(i, onB)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Proc().Spawn(sender(0, onA)); err != nil {
		t.Fatal(err)
	}

	want := map[string]int{"a@localhost": per, "b@localhost": forward * per}
	for range 2 {
		m, err := me.ReceiveTimeout(30 * time.Second)
		if err != nil {
			t.Fatalf("waiting for the receivers: %v", err)
		}
		r := m.([]any)
		if r[0] != "checked" || r[3] != "" {
			t.Fatalf("%v", r)
		}
		// (A count from b crossed the wire: compared as printed.)
		if node := r[1].(string); fmt.Sprint(r[2]) != fmt.Sprint(want[node]) {
			t.Fatalf("receiver on %s got %v messages, want %d", node, r[2], want[node])
		}
	}
	d := time.Since(start)
	t.Logf("%d messages in %v (%.0f msgs/s)", (forward+1)*per, d, float64((forward+1)*per)/d.Seconds())
}
