package proc

import (
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recordTracer keeps every event it is given.
type recordTracer struct {
	mu     sync.Mutex
	events []TraceEvent
	exited chan struct{} // closed at the first exit event
	once   sync.Once
}

func newRecordTracer() *recordTracer { return &recordTracer{exited: make(chan struct{})} }

func (r *recordTracer) Trace(e TraceEvent) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if e.Kind == TraceExit {
		r.once.Do(func() { close(r.exited) })
	}
}

func (r *recordTracer) all() []TraceEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]TraceEvent(nil), r.events...)
}

// A traced echo process reports what it is sent, what it sends back, a
// call and its reply, and its exit, in that order; the untraced test
// process reports nothing, and the mark goes with the process.
func TestTraceEventsInOrder(t *testing.T) {
	n := newNode(t)
	rec := newRecordTracer()
	n.SetTracer(rec)
	me := attach(t, n)
	echo, err := n.Spawn(func(p *Process) {
		for {
			m, err := p.Receive(nil)
			if err != nil {
				return
			}
			switch m := m.(type) {
			case CallRequest:
				_ = p.Reply(m, "pong")
			case string:
				if m == "stop" {
					p.Exit("bye")
				}
				_ = p.Send(me.Pid(), m+"!")
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !n.Trace(echo, true) || !n.Traced(echo) {
		t.Fatal("Trace of a living process refused")
	}
	_ = me.Send(echo, "hi")
	if got := recv(t, me); got != "hi!" {
		t.Fatalf("got %v", got)
	}
	if r, err := me.Call(echo, "ping", waitTime); err != nil || r != "pong" {
		t.Fatalf("call: %v %v", r, err)
	}
	_ = me.Send(echo, "stop")
	select {
	case <-rec.exited:
	case <-time.After(waitTime):
		t.Fatal("no exit event")
	}
	if n.Traced(echo) || n.Trace(echo, true) {
		t.Error("a dead process is still traced, or can be")
	}
	got := rec.all()
	type ev struct {
		kind TraceKind
		to   Pid
	}
	var kinds []ev
	for _, e := range got {
		if e.Pid != echo {
			t.Errorf("event of %v, an untraced process: %+v", e.Pid, e)
		}
		kinds = append(kinds, ev{e.Kind, e.To})
	}
	want := []ev{{TraceReceive, Pid{}}, {TraceSend, me.Pid()}, {TraceReceive, Pid{}}, {TraceSend, me.Pid()}, {TraceReceive, Pid{}}, {TraceExit, Pid{}}}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("events %+v\nwant kinds %+v", got, want)
	}
	if got[0].Msg != "hi" || got[1].Msg != "hi!" || got[5].Msg != "bye" {
		t.Errorf("messages: %+v", got)
	}
	if r, ok := got[3].Msg.(CallReply); !ok || r.Reply != "pong" {
		t.Errorf("reply event: %+v", got[3])
	}
}

// Untracing stops the events; a process never traced sends none, even
// with a tracer installed; a name send is reported with its name.
func TestTraceOffAndNames(t *testing.T) {
	n := newNode(t)
	rec := newRecordTracer()
	n.SetTracer(rec)
	me := attach(t, n)
	if err := n.Register("me", me.Pid()); err != nil {
		t.Fatal(err)
	}
	other := attach(t, n)
	_ = other.Send(me.Pid(), 1)
	recv(t, me)
	n.Trace(other.Pid(), true)
	_ = other.SendName(Name{Name: "me"}, 2)
	recv(t, me)
	n.Trace(other.Pid(), false)
	_ = other.Send(me.Pid(), 3)
	recv(t, me)
	got := rec.all()
	if len(got) != 1 || got[0].Kind != TraceSend || got[0].ToName.Name != "me" || got[0].Msg != 2 {
		t.Fatalf("events %+v, want the one name send", got)
	}
	if n.Trace(Pid{Node: n.Name(), ID: 999999}, true) {
		t.Error("Trace of an unknown pid accepted")
	}
}

// A killed traced process reports its exit with the kill's reason.
func TestTraceExitOfKilled(t *testing.T) {
	n := newNode(t)
	rec := newRecordTracer()
	n.SetTracer(rec)
	pid, _ := n.Spawn(blockForever)
	n.Trace(pid, true)
	_ = n.Exit(pid, Kill)
	select {
	case <-rec.exited:
	case <-time.After(waitTime):
		t.Fatal("no exit event")
	}
	if got := rec.all(); len(got) != 1 || got[0].Msg != Killed {
		t.Fatalf("events %+v", got)
	}
}

// countTracer counts events, the cheapest tracer there is: what tracing
// costs proc itself.
type countTracer struct{ n atomic.Int64 }

func (c *countTracer) Trace(TraceEvent) { c.n.Add(1) }

// BenchmarkSend1to1Traced is BenchmarkSend1to1 with the receiver traced
// (one receive event per message) and the sender untraced; compare it
// with BenchmarkSend1to1, whose processes are untraced on a node with no
// tracer.
func BenchmarkSend1to1Traced(b *testing.B) {
	n, me := benchNode(b)
	c := new(countTracer)
	n.SetTracer(c)
	rcv, err := me.Spawn(counter(b.N, me.Pid()))
	if err != nil {
		b.Fatal(err)
	}
	n.Trace(rcv, true)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_ = me.Send(rcv, benchMsg{i})
	}
	if m, err := me.Receive(nil); err != nil || m != "counted" {
		b.Fatalf("got %v %v", m, err)
	}
	b.StopTimer()
	reportRate(b, b.N, "msgs/s")
	if got := c.n.Load(); got < int64(b.N) {
		b.Fatalf("%d events for %d messages", got, b.N)
	}
}
