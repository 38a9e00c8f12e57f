package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsFlowOneWay keeps the layout's promise: cmd -> repl -> dist ->
// proc, with dist/epmd and dist/wire importing the standard library only
// (nothing of gonode, nothing third-party), and every package documented.
func TestImportsFlowOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{.Doc}}|{{join .Imports \",\"}}", "github.com/gonode/gonode/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/gonode/gonode/"
	allowed := map[string][]string{
		"cluster/global": {"dist", "proc"},
		"cmd/gonode":     {"repl"},
		"repl":           {"dist", "dist/epmd", "otp", "proc"},
		"dist":           {"dist/epmd", "dist/wire", "proc"},
		"dist/epmd":      {},
		"dist/wire":      {},
		"otp":            {"proc"},
		"proc":           {},
	}
	stdlibOnly := map[string]bool{"dist/epmd": true, "dist/wire": true}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		pkg := strings.TrimPrefix(parts[0], mod)
		ok, known := allowed[pkg]
		if !known {
			continue // test-only or helper packages are not part of the layout
		}
		seen++
		if parts[1] == "" {
			t.Errorf("package %s has no doc comment", pkg)
		}
		for _, imp := range strings.Split(parts[2], ",") {
			rel, inModule := strings.CutPrefix(imp, mod)
			if first, _, _ := strings.Cut(imp, "/"); stdlibOnly[pkg] && strings.Contains(first, ".") {
				t.Errorf("%s imports %s: the port mapper and the wire layer use the standard library only", pkg, imp)
			}
			if !inModule {
				continue
			}
			found := false
			for _, a := range ok {
				found = found || a == rel
			}
			if !found {
				t.Errorf("%s imports %s: imports must flow cmd -> repl -> dist -> proc", pkg, rel)
			}
		}
	}
	if seen != len(allowed) {
		t.Errorf("saw %d of the %d packages of the layout", seen, len(allowed))
	}
}
