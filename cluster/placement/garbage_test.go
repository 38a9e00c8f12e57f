package placement

import (
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// Messages that are not the load protocol, or break it, reach the load
// process from its own node and from a peer: each is ignored with a log
// line, and the process goes on taking records.
func TestGarbageIgnored(t *testing.T) {
	c := newMemCluster(t)
	var fb fixed
	ns, ss := c.threeNodes(nil, fb.sample, nil)
	waitNodes(t, ss, "a@localhost", "b@localhost", "c@localhost")
	a, b := ns[0], ns[1]
	from := attach(t, b)
	pb := from.Pid()
	good := func() []any {
		return []any{"b@localhost", int64(1), int64(0), int64(1), []any{}, 0.5, int64(1), int64(1)}
	}
	with := func(i int, v any) []any { f := good(); f[i] = v; return []any{tagLoad, int64(1), pb, f} }
	junk := []any{
		42, "hello", nil, []any{}, []any{tagLoad}, map[string]any{"k": 1},
		[]any{tagLoad, int64(1), pb},                                 // too short
		[]any{tagLoad, int64(0), pb, good()},                         // version 0
		[]any{tagLoad, "1", pb, good()},                              // version not a number
		[]any{tagLoad, int64(1), "pid", good()},                      // sender not a pid
		[]any{tagLoad, int64(1), proc.Pid{}, good()},                 // the zero pid
		[]any{tagLoad, int64(1), pb, "record"},                       // record not a list
		[]any{tagLoad, int64(1), pb, good()[:5]},                     // too few fields
		[]any{proc.Atom("placement_nonsense"), int64(1), pb, good()}, // an unknown tag
		with(0, "c@localhost"),                                       // a record of another node than the sender's
		with(0, 7),                                                   // node not a string
		with(1, "now"),                                               // time not a number
		with(2, int64(-1)),                                           // negative runnable
		with(3, 1.5),                                                 // processes not an integer
		with(4, []any{int64(1), int64(2), int64(3), int64(4)}),       // too many mailboxes
		with(4, []any{"deep"}),                                       // a depth not a number
		with(5, math.NaN()),                                          // cpu not a number
		with(5, int64(1)),                                            // cpu not a float
		with(6, int64(math.MaxInt64)),                                // an absurd count
	}
	name := proc.Name{Name: ServerName, Node: a.Name()}
	for _, m := range junk {
		if err := a.Proc().SendName(name, m); err != nil { // local: the values as they are
			t.Fatal(err)
		}
		if err := from.SendName(name, m); err != nil { // from b: through the codec
			t.Fatal(err)
		}
	}
	// A well-formed record from a process of a's own node is refused too.
	self := attach(t, a)
	_ = self.SendName(name, []any{tagLoad, int64(1), self.Pid(), []any{"a@localhost", int64(1), int64(0), int64(1), []any{}, 0.5, int64(1), int64(1)}})
	want := 2*len(junk) + 1
	eventually(t, "every message logged", func() bool { return c.Logs.Count("placement: a@localhost: ignoring") >= want })
	if !a.Proc().Alive(ss[0].Pid()) {
		t.Fatal("the load process died of garbage")
	}
	// Still taking b's records.
	seen := fb.samples.Load()
	eventually(t, "a newer record of b on a", func() bool {
		l, _ := recordOf(ss[0], "b@localhost")
		return int64(l.Processes) > seen
	})
	l, _ := recordOf(ss[0], "b@localhost")
	if l.Age > time.Minute || l.CPUs != 1 {
		t.Errorf("b's record on a: %+v", l)
	}
}

// A peer's push, encoded and read back, is the record sent.
func TestWireRoundTrip(t *testing.T) {
	pid := proc.Pid{Node: "b@h", ID: 5, Serial: 1}
	l := Load{Node: "b@h", At: time.Unix(0, 1764590000123456789), Runnable: 2, Processes: 30, Mailboxes: []int{9, 1}, CPU: 0.75, CPUs: 4, Memory: 123 << 20}
	from, got, err := parseLoad(loadMsg(pid, l))
	if err != nil || from != pid || got.Node != l.Node || !got.At.Equal(l.At) || got.Runnable != 2 || got.Processes != 30 ||
		len(got.Mailboxes) != 2 || got.Mailboxes[0] != 9 || got.CPU != 0.75 || got.CPUs != 4 || got.Memory != l.Memory {
		t.Errorf("round trip: %+v from %v, %v; want %+v", got, from, err, l)
	}
}

// FuzzParseLoad: whatever a peer sends, parseLoad never panics, and a
// record it accepts is the sender's node's, within bounds.
func FuzzParseLoad(f *testing.F) {
	f.Add("b@h", "b@h", int64(1), int64(2), int64(3), 0.5, int64(4), int64(5), 2)
	f.Add("c@h", "b@h", int64(-1), int64(2), int64(3), -0.5, int64(4), int64(5), 9)
	f.Fuzz(func(t *testing.T, node, sender string, at, run, procs int64, cpu float64, cpus, mem int64, nmb int) {
		mb := make([]any, 0, 8)
		for i := 0; i < nmb%8 && i < 8; i++ {
			mb = append(mb, run+int64(i))
		}
		m := []any{tagLoad, int64(1), proc.Pid{Node: sender, ID: 1}, []any{node, at, run, procs, mb, cpu, cpus, mem}}
		from, l, err := parseLoad(m)
		if err != nil {
			return
		}
		if l.Node != from.Node || l.Runnable < 0 || l.CPU < 0 || len(l.Mailboxes) > MailboxTop || math.IsNaN(l.Score()) {
			t.Fatalf("accepted %+v from %v", l, from)
		}
	})
}

// A steady stream of messages does not keep the load process from
// sampling on time: it checks the clock before every receive, so it
// samples while a backlog is still queued instead of after draining it.
// The sampler notes the deepest queue of the load process it saw.
func TestSamplesUnderAFlood(t *testing.T) {
	c := newMemCluster(t)
	n := c.node("a@localhost")
	var self atomic.Value // the load process's pid, once Start returned
	var deepest atomic.Int64
	sampler := func() Load {
		if pid, ok := self.Load().(proc.Pid); ok {
			if in, ok := n.Proc().Info(pid); ok && int64(in.MessageQueueLen) > deepest.Load() {
				deepest.Store(int64(in.MessageQueueLen))
			}
		}
		return Load{CPUs: 1}
	}
	s, err := Start(n, Options{Interval: time.Millisecond, Sampler: sampler, Logf: c.Logs.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	self.Store(s.Pid())
	me := attach(t, n)
	const flood = 100_000 // handled without a log line each; far more than 1 ms of work
	for range flood {
		_ = me.Send(s.Pid(), proc.DownMsg{})
	}
	eventually(t, "a sample taken with a backlog queued", func() bool { return deepest.Load() >= 1000 })
}

// A sampler that panics is logged; the process lives on and samples again.
func TestSamplerPanics(t *testing.T) {
	c := newMemCluster(t)
	var calls atomic.Int64
	s := c.service(c.node("a@localhost"), func() Load {
		if calls.Add(1)%2 == 0 {
			panic("sampler bug")
		}
		return Load{CPUs: 1, Processes: int(calls.Load())}
	})
	eventually(t, "two panics and a record after them", func() bool {
		l, _ := recordOf(s, "a@localhost")
		return c.Logs.Count("sampler panicked: sampler bug") >= 2 && l.Processes >= 5
	})
}
