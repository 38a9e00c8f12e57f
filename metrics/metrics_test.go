package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testport"
	"github.com/gonode/gonode/proc"
)

const waitTime = 15 * time.Second

func startNode(t *testing.T, epmd, name string, hidden bool) *dist.Node {
	t.Helper()
	f := dist.NewFuncs()
	if err := f.Register("double", func(v int) int { return 2 * v }); err != nil {
		t.Fatal(err)
	}
	if err := f.Register("fail", func() error { return errors.New("it failed") }); err != nil {
		t.Fatal(err)
	}
	n, err := dist.Start(context.Background(), dist.Config{Name: name, Cookie: "secret", EPMDAddr: epmd, Hidden: hidden,
		Functions: f, Logf: func(string, ...any) {}})
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), waitTime)
	t.Cleanup(cancel)
	return c
}

// scrape fetches url and parses what Prometheus would read.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	return fams
}

// value is the metric name{labels} of a scrape; ok is false if it is missing.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func must(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	v, ok := value(fams, name, labels...)
	if !ok {
		t.Fatalf("the scrape has no %s%v", name, labels)
	}
	return v
}

// eventually scrapes until cond holds on a scrape, for waitTime at most.
func eventually(t *testing.T, url, what string, cond func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for {
		fams := scrape(t, url)
		if cond(fams) {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition under a deadline
	}
}

// A scrape reports the node as it is: its processes, names and mailboxes,
// its peers and their traffic, the calls it served; a visible peer that
// goes is reported down, a hidden one is forgotten.
func TestScrapeReportsTheNode(t *testing.T) {
	epmd := testport.Addr(t)
	a := startNode(t, epmd, "metrica@localhost", false)
	b := startNode(t, epmd, "metricb@localhost", false)
	h := startNode(t, epmd, "metrich@localhost", true)
	pn := a.Proc()
	baseProcs, baseNames := pn.Count(), len(pn.Registered())

	// Ten processes waiting for a message, and one that holds 7 in its
	// mailbox and a registered name.
	for range 10 {
		if _, err := pn.Spawn(func(p *proc.Process) { _, _ = p.Receive(context.Background()) }); err != nil {
			t.Fatal(err)
		}
	}
	sink, err := pn.Attach(proc.SpawnOptions{Label: "sink"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pn.Register("sink", sink.Pid()); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if err := pn.Send(sink.Pid(), i); err != nil {
			t.Fatal(err)
		}
	}

	// b connects, sends 3 messages to the sink and makes 3 calls, one of
	// which fails; h, hidden, connects.
	if err := b.Connect(ctx(t), a.Name()); err != nil {
		t.Fatal(err)
	}
	if err := h.Connect(ctx(t), a.Name()); err != nil {
		t.Fatal(err)
	}
	from, err := b.Proc().Attach(proc.SpawnOptions{Label: "sender"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := from.Send(sink.Pid(), fmt.Sprint("remote ", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if v, err := b.RPC(ctx(t), a.Name(), "double", i); err != nil || v != 2*i {
			t.Fatalf("double(%d): %v, %v", i, v, err)
		}
	}
	if _, err := b.RPC(ctx(t), a.Name(), "fail"); err == nil {
		t.Fatal("fail did not fail")
	}

	s, err := Start("127.0.0.1:0", pn, a)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The sends may still be on their way when the calls are answered,
	// and h's connection on a's side may come up after h's Connect.
	fams := eventually(t, s.URL(), "the remote sends in the sink's mailbox, and h up", func(f map[string]*dto.MetricFamily) bool {
		v, _ := value(f, "gonode_mailbox_max_messages")
		hidden, _ := value(f, "gonode_connected_nodes", "kind", "hidden")
		return v == 10 && hidden == 1
	})

	procs := baseProcs + 10 + 1
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"gonode_node_info", []string{"node", "metrica@localhost"}, 1},
		{"gonode_processes", nil, float64(procs)},
		{"gonode_registered_names", nil, float64(baseNames + 1)},
		{"gonode_mailbox_messages", nil, 10},
		{"gonode_mailbox_max_messages", nil, 10},
		{"gonode_peer_up", []string{"peer", "metricb@localhost"}, 1},
		{"gonode_peer_up", []string{"peer", "metrich@localhost"}, 1},
		{"gonode_connected_nodes", []string{"kind", "visible"}, 1},
		{"gonode_connected_nodes", []string{"kind", "hidden"}, 1},
		{"gonode_rpc_served_total", nil, 3},
		{"gonode_rpc_failed_total", nil, 1},
	} {
		if got := must(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := must(t, fams, "gonode_processes_running"); got < 0 || got > float64(procs) {
		t.Errorf("gonode_processes_running = %v of %d processes", got, procs)
	}
	// b's 3 sends and 3 calls at least; the connection's own messages
	// (tick time, peers) besides.
	if got := must(t, fams, "gonode_peer_messages_received_total", "peer", "metricb@localhost"); got < 6 {
		t.Errorf("received from b: %v messages, want at least 6", got)
	}
	if got := must(t, fams, "gonode_peer_messages_sent_total", "peer", "metricb@localhost"); got < 3 {
		t.Errorf("sent to b: %v messages, want at least the 3 replies", got)
	}
	// What a counted out to b, b counted in: the same counters, read on
	// the other side.
	eventually(t, s.URL(), "a's bytes out to b to match b's bytes in", func(f map[string]*dto.MetricFamily) bool {
		out, _ := value(f, "gonode_peer_bytes_sent_total", "peer", "metricb@localhost")
		for _, p := range b.Peers() {
			if p.Name == a.Name() {
				return out == float64(p.BytesIn) && out > 0
			}
		}
		return false
	})
	if f := fams["gonode_peer_messages_received_total"]; f == nil || f.GetType() != dto.MetricType_COUNTER {
		t.Errorf("gonode_peer_messages_received_total is not a counter: %v", f)
	}
	for _, std := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if _, ok := value(fams, std); !ok {
			t.Errorf("the scrape has no %s", std)
		}
	}
	if up := must(t, fams, "gonode_uptime_seconds"); up < 0 || up > waitTime.Seconds()*4 {
		t.Errorf("gonode_uptime_seconds = %v", up)
	}

	// b goes: reported down. h goes: forgotten.
	b.Close()
	h.Close()
	eventually(t, s.URL(), "b down and h forgotten", func(f map[string]*dto.MetricFamily) bool {
		bUp, bOK := value(f, "gonode_peer_up", "peer", "metricb@localhost")
		_, hOK := value(f, "gonode_peer_up", "peer", "metrich@localhost")
		vis, _ := value(f, "gonode_connected_nodes", "kind", "visible")
		return bOK && bUp == 0 && !hOK && vis == 0
	})
	if _, ok := value(scrape(t, s.URL()), "gonode_peer_messages_received_total", "peer", "metricb@localhost"); ok {
		t.Error("a peer that is gone still has traffic counters")
	}
}

// A node without distribution has process figures and no peer or rpc
// ones.
func TestScrapeWithoutDistribution(t *testing.T) {
	pn, err := proc.NewNode("nonode@nohost", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pn.Stop(context.Background()) })
	p, err := pn.Attach(proc.SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = pn.Send(p.Pid(), "hello")
	s, err := Start("127.0.0.1:0", pn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fams := scrape(t, s.URL())
	if got := must(t, fams, "gonode_mailbox_max_messages"); got != 1 {
		t.Errorf("gonode_mailbox_max_messages = %v, want 1", got)
	}
	if got := must(t, fams, "gonode_processes"); got != float64(pn.Count()) {
		t.Errorf("gonode_processes = %v, want %d", got, pn.Count())
	}
	for _, name := range []string{"gonode_peer_up", "gonode_connected_nodes", "gonode_rpc_served_total"} {
		if _, ok := value(fams, name); ok {
			t.Errorf("a node without distribution reports %s", name)
		}
	}
}

// Hook is what gonode --metrics runs: it serves, says where, and its stop
// function closes the listener.
func TestHookServesAndStops(t *testing.T) {
	pn, err := proc.NewNode("nonode@nohost", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pn.Stop(context.Background()) })
	var out bytes.Buffer
	stop, err := Hook("127.0.0.1:0", &out)(pn, nil)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(out.String())
	url, ok := strings.CutPrefix(line, "gonode: metrics at ")
	if !ok || !strings.HasSuffix(url, "/metrics") {
		t.Fatalf("the hook said %q", line)
	}
	if _, ok := value(scrape(t, url), "gonode_processes"); !ok {
		t.Fatal("no gonode_processes")
	}
	stop()
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("still serving after stop: %s", resp.Status)
	}
	if _, err := Hook("127.0.0.1:bad", &out)(pn, nil); err == nil {
		t.Error("a bad address started")
	}
}

func TestAddr(t *testing.T) {
	for in, want := range map[string]string{
		"9100": "127.0.0.1:9100", ":9100": "127.0.0.1:9100", "0.0.0.0:9100": "0.0.0.0:9100", "[::1]:9100": "[::1]:9100",
	} {
		if got, err := Addr(in); err != nil || got != want {
			t.Errorf("Addr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Addr("a:b:c"); err == nil {
		t.Error(`Addr("a:b:c") passed`)
	}
}
