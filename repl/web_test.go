package repl

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/web"
)

// webCluster is two embedded nodes, wa and wb, connected, with on wb a
// supervisor and its worker, registered as "sup" and "worker".
func webCluster(t *testing.T) (a, b *Embedded) {
	t.Helper()
	port := freeEPMDPort(t)
	a = startEmbedded(t, port, EmbedConfig{Name: "wa@localhost"})
	b = startEmbedded(t, port, EmbedConfig{Name: "wb@localhost"})
	if err := a.Dist().Connect(context.Background(), b.Name()); err != nil {
		t.Fatal(err)
	}
	worker := otp.ChildSpec{ID: "w", Start: func(sup *proc.Process, node string) (proc.Pid, error) {
		pid, _, err := sup.SpawnOpt(func(p *proc.Process) {
			for {
				if _, err := p.Receive(p.Context()); err != nil {
					return
				}
			}
		}, proc.SpawnOptions{Link: true, Supervised: true, Name: "worker"})
		return pid, err
	}}
	if _, err := otp.StartSupervisor(nil, b.Dist().Proc(), otp.SupervisorOptions{Name: "sup"}, worker); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func nodeOf(t *testing.T, s web.Snapshot, name string) web.Node {
	t.Helper()
	for _, n := range s.Nodes {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no node %s in the snapshot: %+v", name, s.Nodes)
	return web.Node{}
}

// TestWebSnapshotHoldsEveryNode: the snapshot taken on wa holds wb's
// processes, names and supervision tree, asked of wb.
func TestWebSnapshotHoldsEveryNode(t *testing.T) {
	a, b := webCluster(t)
	s, err := webSource{rt: a.rt}.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.From != a.Name() || len(s.Nodes) != 2 || s.Nodes[0].Name != a.Name() {
		t.Fatalf("snapshot of %s with nodes %v", s.From, s.Nodes)
	}
	na, nb := nodeOf(t, s, a.Name()), nodeOf(t, s, b.Name())
	worker, _ := b.Dist().Proc().Whereis("worker")
	sup, _ := b.Dist().Proc().Whereis("sup")
	for _, n := range []web.Node{na, nb} {
		if n.Error != "" || n.ProcessCount == 0 || len(n.Processes) == 0 {
			t.Fatalf("%s: %+v", n.Name, n)
		}
	}
	if !slices.Contains(na.Connections, b.Name()) || !slices.Contains(nb.Connections, a.Name()) {
		t.Errorf("connections: %s %v, %s %v", na.Name, na.Connections, nb.Name, nb.Connections)
	}
	if !slices.ContainsFunc(nb.Processes, func(p web.Process) bool { return p.Pid == worker.String() && p.Name == "worker" }) {
		t.Errorf("wb's processes lack the worker %v: %+v", worker, nb.Processes)
	}
	if !slices.Contains(nb.Registered, web.Name{Name: "worker", Pid: worker.String()}) {
		t.Errorf("wb's names: %v", nb.Registered)
	}
	if len(nb.Supervisors) != 1 || nb.Supervisors[0].Pid != sup.String() || nb.Supervisors[0].Name != "sup" ||
		len(nb.Supervisors[0].Children) != 1 || nb.Supervisors[0].Children[0].Pid != worker.String() {
		t.Errorf("wb's supervision trees: %+v", nb.Supervisors)
	}
	if len(na.Supervisors) != 0 {
		t.Errorf("wa has no supervisor, yet: %+v", na.Supervisors)
	}
	// The shell's helpers print the same.
	x := a.rt.shellProc()
	if out := x.Cluster().String(); !strings.Contains(out, a.Name()) || !strings.Contains(out, "wb@localhost ") {
		t.Errorf("cluster():\n%s", out)
	}
	if out := x.SupervisionTrees().String(); !strings.Contains(out, sup.String()+" (sup) one_for_one on wb@localhost") ||
		!strings.Contains(out, "└─ w "+worker.String()+" on wb@localhost worker") {
		t.Errorf("supervisionTrees():\n%s", out)
	}
	if top := x.Top(500); !slices.ContainsFunc(top, func(p web.Process) bool { return p.Pid == worker.String() }) {
		t.Errorf("top(500) lacks wb's worker:\n%s", top)
	}
}

// TestWebActions: a kill from wa's view reaches wb's worker, and its
// supervisor restarts it; bad pids are the viewer's mistake.
func TestWebActions(t *testing.T) {
	a, b := webCluster(t)
	src := webSource{rt: a.rt}
	worker, _ := b.Dist().Proc().Whereis("worker")
	if err := src.Act(context.Background(), web.Action{Kind: web.ActSend, Pid: worker.String(), Message: "hi"}); err != nil {
		t.Fatal(err)
	}
	if err := src.Act(context.Background(), web.Action{Kind: web.ActKill, Pid: worker.String()}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the supervisor restarts the killed worker", func() bool {
		pid, ok := b.Dist().Proc().Whereis("worker")
		return ok && pid != worker
	})
	for _, pid := range []string{"<wa@localhost.99999.0>", "<nowhere@localhost.1.0>", "nonsense"} {
		if err := src.Act(context.Background(), web.Action{Kind: web.ActKill, Pid: pid}); !errors.Is(err, web.ErrBadAction) {
			t.Errorf("kill %s: %v, want ErrBadAction", pid, err)
		}
	}
}

// TestWebPeerThatDoesNotAnswer: a node without the web view's function
// (a bare dist node) is shown with the reason, the others as usual.
func TestWebPeerThatDoesNotAnswer(t *testing.T) {
	a, _ := webCluster(t)
	c, err := dist.Start(context.Background(), dist.Config{Name: "wc@localhost", Cookie: "c"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := a.Dist().Connect(context.Background(), c.Name()); err != nil {
		t.Fatal(err)
	}
	s, err := webSource{rt: a.rt}.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if nc := nodeOf(t, s, "wc@localhost"); !strings.Contains(nc.Error, "not shown") || len(nc.Processes) != 0 {
		t.Errorf("wc: %+v", nc)
	}
	if nb := nodeOf(t, s, "wb@localhost"); nb.Error != "" {
		t.Errorf("wb: %s", nb.Error)
	}
}

// TestWebServedUntilClose: web(addr) serves the snapshot over HTTP, a
// second web() is refused, and closing the node stops the server.
func TestWebServedUntilClose(t *testing.T) {
	a, b := webCluster(t)
	x := a.rt.shellProc()
	url := x.Web("127.0.0.1:0")
	var s web.Snapshot
	resp, err := http.Get(url + "snapshot")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if err != nil || len(s.Nodes) != 2 || nodeOf(t, s, b.Name()).Error != "" {
		t.Fatalf("GET /snapshot: %v %+v", err, s)
	}
	if _, err := a.rt.web.start(a.rt, "127.0.0.1:0", ""); err == nil || !strings.Contains(err.Error(), "already serving") {
		t.Fatalf("a second web view: %v", err)
	}
	a.Close()
	client := http.Client{Timeout: 5 * time.Second}
	if resp, err := client.Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("the web view still answers after the node closed")
	}
	if _, err := a.rt.web.start(a.rt, "127.0.0.1:0", ""); err == nil {
		t.Fatal("web started on a closed node")
	}
}

// TestWebTraceFeedsFlow: the view's trace action traces wb's worker from
// wa, and what the worker receives shows in the snapshot's flow; web("")
// stops the trace.
func TestWebTraceFeedsFlow(t *testing.T) {
	a, b := webCluster(t)
	x := a.rt.shellProc()
	x.Web("127.0.0.1:0")
	src := webSource{rt: a.rt, flow: a.rt.web.flow}
	worker, _ := b.Dist().Proc().Whereis("worker")
	if err := src.Act(context.Background(), web.Action{Kind: web.ActTrace, Pid: worker.String()}); err != nil {
		t.Fatal(err)
	}
	if err := src.Act(context.Background(), web.Action{Kind: web.ActSend, Pid: worker.String(), Message: "traced hi"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the flow shows the worker receiving the message", func() bool {
		s, err := src.Snapshot(context.Background())
		return err == nil && slices.ContainsFunc(s.Flow, func(f web.Flow) bool {
			return f.Kind == "received" && f.To == worker.String() && strings.Contains(f.Text, `"traced hi"`)
		})
	})
	flow := a.rt.web.flow
	flow.mu.Lock()
	traces := slices.Clone(flow.traces)
	flow.mu.Unlock()
	if len(traces) != 1 {
		t.Fatalf("the page keeps %d traces, want 1", len(traces))
	}
	x.Web("")
	if !traces[0].Done() {
		t.Fatal(`web("") left the page's trace running`)
	}
}
