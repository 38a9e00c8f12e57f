package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSource reports a fixed cluster and records the actions asked.
type fakeSource struct {
	pad string // makes each snapshot this much bigger

	mu      sync.Mutex
	n       int      // guarded by mu: snapshots taken
	actions []Action // guarded by mu
	actErr  error    // guarded by mu: what Act returns
}

func (f *fakeSource) Snapshot(ctx context.Context) (Snapshot, error) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	return Snapshot{Time: time.Now(), From: "a@h", Nodes: []Node{
		{Name: "a@h", Connections: []string{"b@h"}, ProcessCount: n,
			Processes: []Process{{Pid: "<a@h.1.0>", Status: "waiting", Doing: f.pad}}},
		{Name: "b@h", Error: "not shown: no answer within 800ms"},
	}}, nil
}

func (f *fakeSource) Act(ctx context.Context, a Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, a)
	return f.actErr
}

func (f *fakeSource) acted() []Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Action(nil), f.actions...)
}

func serve(t *testing.T, src Source, o Options) (*Handler, *httptest.Server) {
	t.Helper()
	h := NewHandler(src, o)
	ts := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); ts.Close() }) // h first: it ends the streams ts.Close waits for
	return h, ts
}

// nextSnapshot reads the stream up to the next snapshot event.
func nextSnapshot(t *testing.T, r *bufio.Reader) Snapshot {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var s Snapshot
			if err := json.Unmarshal([]byte(data), &s); err != nil {
				t.Fatalf("event data %q: %v", data, err)
			}
			return s
		}
	}
}

func openEvents(t *testing.T, url string) (*http.Response, *bufio.Reader) {
	t.Helper()
	resp, err := http.Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, bufio.NewReader(resp.Body)
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPageIsServed(t *testing.T) {
	_, ts := serve(t, &fakeSource{}, Options{})
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"<title>gonode</title>", `new EventSource("/events"`, "supervisionTrees()"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestEventsStreamSnapshots(t *testing.T) {
	_, ts := serve(t, &fakeSource{}, Options{Interval: 10 * time.Millisecond})
	resp, r := openEvents(t, ts.URL)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	first := nextSnapshot(t, r)
	second := nextSnapshot(t, r)
	if len(first.Nodes) != 2 || first.Nodes[1].Error == "" || first.Nodes[0].Processes[0].Pid != "<a@h.1.0>" {
		t.Fatalf("snapshot %+v", first)
	}
	if second.Nodes[0].ProcessCount <= first.Nodes[0].ProcessCount {
		t.Fatalf("the second snapshot (%d) is not newer than the first (%d)", second.Nodes[0].ProcessCount, first.Nodes[0].ProcessCount)
	}
}

func TestSnapshotJSON(t *testing.T) {
	_, ts := serve(t, &fakeSource{}, Options{})
	resp, err := http.Get(ts.URL + "/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || s.From != "a@h" {
		t.Fatalf("GET /snapshot: %v %+v", err, s)
	}
}

func TestClientCap(t *testing.T) {
	h, ts := serve(t, &fakeSource{}, Options{Interval: 10 * time.Millisecond, MaxClients: 2})
	for range 2 {
		_, r := openEvents(t, ts.URL)
		nextSnapshot(t, r)
	}
	resp, err := http.Get(ts.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "2 viewers already") {
		t.Fatalf("a third viewer: %d %q", resp.StatusCode, b)
	}
	if n, _ := h.Stats(); n != 2 {
		t.Fatalf("%d viewers, want 2", n)
	}
}

// TestSlowClientIsDropped: a viewer that stops reading fills its socket,
// then its buffer, and is dropped; the other viewer goes on receiving.
func TestSlowClientIsDropped(t *testing.T) {
	src := &fakeSource{pad: strings.Repeat("x", 256<<10)} // fills socket buffers in a few snapshots
	h, ts := serve(t, src, Options{Interval: 10 * time.Millisecond, ClientBuffer: 4})
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	waitFor(t, "the slow viewer to subscribe", func() bool { n, _ := h.Stats(); return n == 1 })

	_, r := openEvents(t, ts.URL)
	nextSnapshot(t, r)
	done := make(chan struct{})
	defer close(done)
	go func() { // the fast viewer keeps reading, as a browser does
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		}
	}()
	waitFor(t, "the slow viewer to be dropped", func() bool { _, d := h.Stats(); return d >= 1 })
	if n, d := h.Stats(); n != 1 || d != 1 {
		t.Fatalf("%d viewers and %d dropped, want the fast one kept and the slow one dropped", n, d)
	}
}

func post(t *testing.T, url, contentType, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url+"/action", contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestActions(t *testing.T) {
	src := &fakeSource{}
	_, ts := serve(t, src, Options{})
	if code, body := post(t, ts.URL, "application/json", `{"kind":"send","pid":"<a@h.12.0>","message":"hi"}`); code != 204 {
		t.Fatalf("send: %d %s", code, body)
	}
	if code, body := post(t, ts.URL, "application/json", `{"kind":"kill","pid":"<b@h.3.0>"}`); code != 204 {
		t.Fatalf("kill: %d %s", code, body)
	}
	if code, body := post(t, ts.URL, "application/json", `{"kind":"trace","pid":"<b@h.4.0>"}`); code != 204 {
		t.Fatalf("trace: %d %s", code, body)
	}
	want := []Action{{Kind: "send", Pid: "<a@h.12.0>", Message: "hi"}, {Kind: "kill", Pid: "<b@h.3.0>"}, {Kind: "trace", Pid: "<b@h.4.0>"}}
	if got := src.acted(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Act got %v, want %v", got, want)
	}
}

func TestBadActions(t *testing.T) {
	src := &fakeSource{}
	_, ts := serve(t, src, Options{})
	for _, c := range []struct {
		ct, body string
		code     int
		want     string
	}{
		{"application/json", `{"kind":"watch","pid":"<a@h.1.0>"}`, 400, `unknown action "watch"`},
		{"application/json", `{"pid":"<a@h.1.0>"}`, 400, "has no kind"},
		{"application/json", `{"kind":"kill","pid":"a@h.1.0"}`, 400, "is not a pid"},
		{"application/json", `{"kind":"send","pid":"<a@h.1.0>"}`, 400, "send needs a message"},
		{"application/json", `{"kind":"kill","pid":"<a@h.1.0>","extra":1}`, 400, `unknown field "extra"`},
		{"application/json", `not json`, 400, "an action is"},
		{"application/json", `{"kind":"send","pid":"<a@h.1.0>","message":"` + strings.Repeat("x", maxActionBytes) + `"}`, 400, "too large"},
		{"application/x-www-form-urlencoded", `kind=kill&pid=<a@h.1.0>`, 415, "an action is JSON"},
	} {
		code, body := post(t, ts.URL, c.ct, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%.60s: %d %q, want %d and %q", c.body, code, body, c.code, c.want)
		}
	}
	if got := src.acted(); len(got) != 0 {
		t.Fatalf("bad actions reached the Source: %v", got)
	}
}

func TestActionErrors(t *testing.T) {
	src := &fakeSource{actErr: fmt.Errorf("%w: no process <a@h.9.0> on a@h", ErrBadAction)}
	_, ts := serve(t, src, Options{})
	if code, body := post(t, ts.URL, "application/json", `{"kind":"kill","pid":"<a@h.9.0>"}`); code != 400 || !strings.Contains(body, "no process <a@h.9.0>") {
		t.Fatalf("refused by the Source: %d %q", code, body)
	}
	src.mu.Lock()
	src.actErr = errors.New("node down")
	src.mu.Unlock()
	if code, body := post(t, ts.URL, "application/json", `{"kind":"kill","pid":"<a@h.9.0>"}`); code != 502 || !strings.Contains(body, "node down") {
		t.Fatalf("failed in the Source: %d %q", code, body)
	}
}

func TestToken(t *testing.T) {
	_, ts := serve(t, &fakeSource{}, Options{Token: "s3cret"})
	for path, want := range map[string]int{"/": 401, "/?token=wrong": 401, "/?token=s3cret": 200, "/snapshot?token=s3cret": 200} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	req, _ := http.NewRequest("GET", ts.URL+"/snapshot", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("with a bearer token: %d", resp.StatusCode)
	}
}

func TestStartBindsLoopbackUnlessToken(t *testing.T) {
	for in, want := range map[string]string{":8080": "127.0.0.1:8080", "8080": "127.0.0.1:8080", "0.0.0.0:1": "0.0.0.0:1", "[::1]:80": "[::1]:80"} {
		if got, err := Addr(in); err != nil || got != want {
			t.Errorf("Addr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Addr("a:b:c"); err == nil {
		t.Error("Addr(a:b:c) is no error")
	}
	if _, err := Start("0.0.0.0:0", &fakeSource{}, Options{}); !errors.Is(err, ErrExposed) {
		t.Fatalf("Start on 0.0.0.0 without a token: %v, want ErrExposed", err)
	}
	s, err := Start(":0", &fakeSource{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %s is not on loopback", s.URL())
	}
	// A request to another host name (DNS rebinding) is refused.
	req, _ := http.NewRequest("GET", s.URL()+"snapshot", nil)
	req.Host = "attacker.example:80"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET with Host attacker.example: %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}
	resp, err := http.Get(s.URL() + "events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Close ends the open stream and returns: the stream reads EOF.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatalf("the stream after Close: %v", err)
	}
	_ = s.Close() // idempotent
}
