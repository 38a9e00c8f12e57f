package repl

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// The web view in a real browser: headless Chromium, driven over the
// DevTools protocol by chromedp (a test import only: it stays out of the
// gonode binary). The test lives beside the other web view tests because
// the view's Source and its start are the shell's, unexported.

var updateScreenshot = flag.Bool("update-screenshot", false, "rewrite docs/web-view.png, the README's picture of the web view, from TestWebViewInBrowser")

// chromium finds a Chromium or Chrome to drive, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserCluster is three embedded nodes, fully connected, with on the
// third a supervisor "sup" whose child "w" is registered as "worker".
func browserCluster(t *testing.T) []*Embedded {
	t.Helper()
	port := freeEPMDPort(t)
	nodes := []*Embedded{
		startEmbedded(t, port, EmbedConfig{Name: "view1@localhost"}),
		startEmbedded(t, port, EmbedConfig{Name: "view2@localhost"}),
		startEmbedded(t, port, EmbedConfig{Name: "view3@localhost"}),
	}
	for i, a := range nodes {
		for _, b := range nodes[i+1:] {
			if err := a.Dist().Connect(context.Background(), b.Name()); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitUntil(t, "a full mesh of three nodes", func() bool {
		for _, n := range nodes {
			if len(n.Dist().Nodes()) != 2 {
				return false
			}
		}
		return true
	})
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
	if _, err := otp.StartSupervisor(nil, nodes[2].Dist().Proc(), otp.SupervisorOptions{Name: "sup"}, worker); err != nil {
		t.Fatal(err)
	}
	return nodes
}

// TestWebViewInBrowser: Chromium opens the page served by view1 and shows
// the three nodes with their connections and view3's supervision tree;
// the worker is killed with the page's kill button (the page asks for a
// confirmation, which the test gives) and the tree then shows the worker
// its supervisor started in its place. The page is saved as a screenshot
// (with -update-screenshot, as docs/web-view.png).
func TestWebViewInBrowser(t *testing.T) {
	chrome := chromium()
	if chrome == "" {
		t.Skip("no chromium on PATH: the web view's browser test needs headless Chromium (apt-get install chromium; .ci/run installs it)")
	}
	nodes := browserCluster(t)
	view3 := nodes[2].Dist().Proc()
	oldWorker, ok := view3.Whereis("worker")
	sup, ok2 := view3.Whereis("sup")
	if !ok || !ok2 {
		t.Fatal("the supervisor or its worker is not registered")
	}
	url, err := nodes[0].rt.web.start(nodes[0].rt, "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}

	// One deadline bounds the whole browser session; every wait below is
	// on a condition in the page, under it.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox, // tests run as root here, and Chromium's sandbox refuses root
		chromedp.WindowSize(1200, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	// No UserDataDir: chromedp makes a temporary profile and, once the
	// browser and its children are gone, removes it; cancelAlloc waits for
	// both.
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1200, 800)); err != nil {
		t.Fatalf("starting %s: %v", chrome, err)
	}

	// The kill button asks confirm(): a dialog blocks the page and the
	// click that opened it until something answers it, so a goroutine
	// owned by this test accepts each one and reports what it asked.
	asked := make(chan string, 4)
	dialogs := chromedp.Events(tab, page.JavascriptDialogOpening)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			select {
			case asked <- ev.Message:
			default:
			}
			if _, err := chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				return
			}
		}
	}()
	defer func() { cancelTab(); wg.Wait() }()

	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}

	// The node table: a row per node, each connected to the other two.
	rows := pollPage[[][]string](t, tab, "the node table lists three nodes, each with its connections", `() => {
		const rows = [...document.querySelectorAll("#nodes tbody tr")].map(tr => [...tr.cells].map(td => td.textContent));
		return rows.length === 3 && rows.every(r => r.length > 2 && r[1].split(", ").length === 2) ? rows : null;
	}`)
	var shown []string
	for _, r := range rows {
		shown = append(shown, r[0])
		conns := strings.Split(r[1], ", ")
		for _, n := range nodes {
			if n.Name() != r[0] && !slices.Contains(conns, n.Name()) {
				t.Errorf("the page shows %s connected to %v, without %s", r[0], conns, n.Name())
			}
		}
	}
	if want := []string{"view1@localhost", "view2@localhost", "view3@localhost"}; !slices.Equal(shown, want) {
		t.Fatalf("the page lists the nodes %v, want %v", shown, want)
	}

	// The supervision tree, asked of view3 by view1.
	tree := pollPage[string](t, tab, "the supervision tree shows the worker", `(pid) => {
		const text = document.getElementById("trees").textContent;
		return text.includes(pid) ? text : null;
	}`, oldWorker.String())
	for _, want := range []string{sup.String() + " (sup) one_for_one on view3@localhost", "└─ w " + oldWorker.String() + " on view3@localhost worker"} {
		if !strings.Contains(tree, want) {
			t.Errorf("the supervision tree lacks %q:\n%s", want, tree)
		}
	}

	// Filter the process table down to the worker, as a user would, and
	// kill it with its row's button.
	if err := chromedp.Do(tab, chromedp.SendKeys(chromedp.CSS("#filter"), oldWorker.String())); err != nil {
		t.Fatal(err)
	}
	pollPage[bool](t, tab, "the filtered process table shows the worker alone", `(pid) => {
		const rows = [...document.querySelectorAll("#procs tbody tr")];
		return rows.length === 1 && rows[0].cells[0].textContent === pid && rows[0].cells[1].textContent === "worker";
	}`, oldWorker.String())
	clickKill(t, ctx, tab, oldWorker.String())
	select {
	case msg := <-asked:
		if want := "kill " + oldWorker.String() + "?"; msg != want {
			t.Errorf("the page asked %q, want %q", msg, want)
		}
	case <-ctx.Done():
		t.Fatal("the kill button asked no confirmation")
	}
	pollPage[bool](t, tab, "the page reports the kill done", `(pid) => document.getElementById("act").textContent === "kill " + pid + ": ok"`, oldWorker.String())

	// The supervisor restarts the worker under a new pid, and the page
	// shows it.
	newWorker := pollPage[string](t, tab, "the supervision tree shows a restarted worker", `(old) => {
		const m = document.getElementById("trees").textContent.match(/─ w (<[^>]+>) on view3@localhost worker/);
		return m && m[1] !== old ? m[1] : null;
	}`, oldWorker.String())
	if pid, ok := view3.Whereis("worker"); !ok || pid.String() != newWorker {
		t.Fatalf("the page shows the worker %s, the node has %v", newWorker, pid)
	}

	// The screenshot: the process table filtered to the restarted worker
	// (the old pid erased, "worker" typed).
	if err := chromedp.Do(tab, chromedp.SendKeys(chromedp.CSS("#filter"), strings.Repeat(kb.Backspace, len(oldWorker.String()))+"worker")); err != nil {
		t.Fatal(err)
	}
	pollPage[bool](t, tab, "the process table shows the restarted worker", `(pid) => {
		const rows = [...document.querySelectorAll("#procs tbody tr")];
		return rows.length >= 1 && rows.some(r => r.cells[0].textContent === pid);
	}`, newWorker)
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(shot)); err != nil || cfg.Width != 1200 {
		t.Fatalf("the screenshot: %v, %d pixels wide, want a PNG 1200 wide", err, cfg.Width)
	}
	saveScreenshot(t, shot)
}

// pollPage evaluates fn(args...) in the page until it returns a truthy
// value, and returns that value; the page re-renders on every snapshot
// (each second), so the condition is checked as often.
func pollPage[T any](t *testing.T, tab context.Context, what, fn string, args ...any) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.PollFunction[T](fn,
		chromedp.WithPollingArgs(args...),
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatalf("waiting until %s: %v", what, err)
	}
	return v
}

// clickKill clicks the kill button in pid's row of the process table. The
// page replaces its rows on every snapshot, so a row found may be gone by
// the time the click is computed: then it clicks again, unless the page
// shows the kill already under way (the click landed).
func clickKill(t *testing.T, ctx, tab context.Context, pid string) {
	t.Helper()
	button := `//table[@id="procs"]/tbody/tr[td[1]="` + pid + `"]//button[text()="kill"]`
	for {
		attempt, cancel := context.WithTimeout(tab, 10*time.Second)
		err := chromedp.Do(attempt, chromedp.Click(chromedp.Search(button)))
		cancel()
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("clicking the kill button of %s: %v", pid, err)
		}
		if act, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("act").textContent`)); strings.HasPrefix(act, "kill "+pid) {
			return
		}
		t.Logf("clicking the kill button of %s: %v; again", pid, err)
	}
}

// saveScreenshot keeps the picture among the test's artifacts (go test
// -artifacts) and, with -update-screenshot, as the README's.
func saveScreenshot(t *testing.T, shot []byte) {
	t.Helper()
	paths := []string{filepath.Join(t.ArtifactDir(), "web-view.png")}
	if *updateScreenshot {
		paths = append(paths, filepath.Join("..", "docs", "web-view.png"))
	}
	for _, p := range paths {
		if err := os.WriteFile(p, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the web view: %s (%d bytes)", p, len(shot))
	}
}
