package conformance

import (
	"context"
	"flag"
	"log"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite docs/go-in-the-shell.md from this run")

const (
	formsPath = "testdata/forms.txtar"
	docPath   = "../../docs/go-in-the-shell.md"
	// shellTimeout is how long a form may take in the shell before it
	// counts as hung. Forms take some 20 ms; the margin is for a loaded
	// CI machine. Each form that hangs costs this much.
	shellTimeout = 2 * time.Second
	minForms     = 150
)

// TestConformance runs every form in the shell and compiled, and checks
// each observed status against the expected one and the published table
// against this run.
func TestConformance(t *testing.T) {
	if raceEnabled {
		t.Skip("the suite measures the shell's Go, not its races; under -race it takes some 30 s and its time limits would depend on the machine's load (run it without -race)")
	}
	forms, err := loadForms(formsPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(forms) < minForms {
		t.Errorf("%d forms; the suite promises at least %d", len(forms), minForms)
	}
	ctx := context.Background()

	// Build the compiled forms while the shell runs them: the build waits
	// on the go command, the shell on this process.
	type built struct {
		pr  *program
		err error
	}
	dir := t.TempDir()
	builds := make(chan built, 1)
	buildDone := make(chan struct{})
	go func() {
		defer close(buildDone)
		pr, err := buildForms(ctx, dir, forms)
		builds <- built{pr, err}
	}()
	defer func() { <-buildDone }() // before dir is removed, even after a t.Fatal

	// yaegi logs some failures through the standard logger ("nil type"):
	// those lines are part of what the user sees.
	logs := &syncBuffer{}
	log.SetOutput(logs)
	defer log.SetOutput(os.Stderr)
	shells := make([]shelled, len(forms))
	for i, f := range forms {
		if shells[i], err = runShell(f.input, shellTimeout, logs); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
	}

	slowest := -1
	for i, sh := range shells {
		if !sh.hung && (slowest < 0 || sh.took > shells[slowest].took) {
			slowest = i
		}
	}
	if slowest >= 0 {
		t.Logf("slowest form that ended: %s, %v (the limit is %v)", forms[slowest].name, shells[slowest].took, shellTimeout)
	}

	b := <-builds
	if b.err != nil {
		t.Fatal(b.err)
	}
	if out, err := b.pr.initOutput(ctx); err != nil || out != "" {
		t.Fatalf("the compiled forms print while they are initialised (a form prints from a package-level initialiser or init): %q %v", out, err)
	}
	var verdicts []verdict
	for i, f := range forms {
		if msg, bad := b.pr.broken[f.pkg]; bad {
			t.Errorf("%s: its compiled version (%s) does not build; fix the form or write %s.go:\n%s", f.name, f.pkg, f.name, msg)
			continue
		}
		c, err := b.pr.run(ctx, f.pkg)
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		if c.stdout == "" && c.panic == "" {
			t.Errorf("%s: its compiled version prints nothing, so any shell that prints nothing would pass: print what the form computes", f.name)
		}
		status, detail := classify(shells[i], c, f.declared())
		verdicts = append(verdicts, verdict{f, status, detail})
		if status != f.want {
			t.Errorf("%s: %s, expected %s: %s\n\tshell stdout %q stderr %q log %q\n\tGo stdout %q panic %q\n\tIf this is an improvement, record it: set [%s] in %s and run with -update.",
				f.name, status, f.want, detail, shells[i].stdout, shells[i].stderr, shells[i].log, c.stdout, c.panic, status, formsPath)
		}
	}
	if t.Failed() && !*update {
		return // the table would only repeat the failures
	}
	doc := report(verdicts)
	if *update {
		if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if old, err := os.ReadFile(docPath); err != nil || string(old) != doc {
		t.Errorf("%s is not current (%v): run go test ./repl/conformance/ -update", docPath, err)
	}
}
