package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsFlowOneWay keeps the layout's promise: cmd -> repl -> dist ->
// proc, with the leaves (dist/epmd, dist/wire, repl/format ...) importing
// nothing of gonode, every package documented, and every import outside
// the standard library written down. A package the test does not know
// fails it: its place in the layout is decided when it is added, not
// discovered later.
func TestImportsFlowOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{.Doc}}|{{join .Imports \",\"}}", "github.com/gonode/gonode/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/gonode/gonode/"
	// The packages of gonode each package may import.
	allowed := map[string][]string{
		"cluster/global":   {"dist", "proc"},
		"cmd/gonode":       {"metrics", "repl"},
		"cluster/pg":       {"dist", "proc"},
		"repl":             {"cluster/global", "cluster/pg", "cluster/placement", "discovery", "discovery/setup", "dist", "dist/epmd", "dist/erlang", "otp", "proc", "repl/eval", "repl/format", "repl/syntax", "repl/term", "trace", "web"},
		"repl/conformance": {"repl"},
		"repl/eval":        {"repl/format", "repl/syntax"},
		"repl/format":      {},
		"repl/syntax":      {},
		"repl/term":        {},
		"dist":             {"dist/epmd", "dist/wire", "proc"},
		"dist/epmd":        {},
		"dist/wire":        {},
		"otp":              {"proc"},
		"proc":             {},
		// Load records and the choice of a node for new work (issue 11).
		"cluster/placement": {"dist", "proc"},
		// The Erlang external term format (issue 12): standard library only.
		"dist/erlang/etf": {},
		// The Erlang distribution handshake (issue 12): standard library only.
		"dist/erlang/handshake": {},
		// The Erlang dialect (issue 12): the adapter between those two and
		// dist (dist/wire for the types of dist.Handshaker).
		// dist/epmd: the mesh looks BEAM nodes up in their hosts' port
		// mappers to dial them in Erlang's protocol.
		"dist/erlang": {"dist", "dist/epmd", "dist/erlang/etf", "dist/erlang/handshake", "dist/wire", "proc"},
		// Discovery (issue 13): strategies behind one interface; none
		// imports dist, only its standard-library port mapper client.
		"discovery":                  {"dist/epmd"},
		"discovery/static":           {"discovery"},
		"discovery/dns":              {"discovery"},
		"discovery/gossip":           {"discovery"},
		"discovery/setup":            {"discovery", "discovery/dns", "discovery/gossip", "discovery/static"},
		"discovery/internal/testnet": {"dist/epmd"},
		// Tracing and sys:get_state (issue 13): proc's hook, dist's traffic
		// tracer and rpc, otp's GetState; the shell wires it.
		"trace": {"dist", "otp", "proc"},
		// The live web view (issue 13): the standard library only; the
		// shell implements its Source and starts it (web(addr), --web).
		"web": {},
		// Prometheus metrics (issue 13): read from proc and dist at each
		// scrape; the command wires it (--metrics, repl.Config.Started).
		"metrics": {"dist", "proc"},
		// Not part of the layout, but known: a test helper and an example.
		"internal/testport":    {},
		"internal/testcluster": {"dist", "internal/testport", "proc"},
		"examples/embed":       {"dist", "examples/embed/mathx", "repl"},
		"examples/embed/mathx": {},
	}
	// The modules outside the standard library each package may import;
	// a package not listed imports the standard library (and gonode) only.
	thirdParty := map[string][]string{
		"cmd/gonode": {"github.com/spf13/cobra"},
		"dist":       {"github.com/vmihailenco/msgpack/v5"},
		// client_golang, on a registry of its own, in one package.
		"metrics": {"github.com/prometheus/client_golang"},
		// The wiring hands host packages to the evaluator as yaegi symbol
		// tables (interp.Exports, EmbedConfig.Exports) and reads
		// stdlib.Symbols for the names an embedded package must not take;
		// it evaluates nothing itself.
		"repl":      {"github.com/traefik/yaegi"},
		"repl/eval": {"github.com/traefik/yaegi"},
		"repl/term": {"github.com/chzyer/readline", "golang.org/x/sys"},
		// Gossip membership lives in one package (docs/architecture.md).
		"discovery/gossip": {"github.com/hashicorp/memberlist"},
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		pkg := strings.TrimPrefix(parts[0], mod)
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the layout: add it to allowed (and thirdParty) with the imports its job needs", pkg)
			continue
		}
		seen++
		if parts[1] == "" {
			t.Errorf("package %s has no doc comment", pkg)
		}
		for _, imp := range strings.Split(parts[2], ",") {
			if imp == "" {
				continue
			}
			rel, inModule := strings.CutPrefix(imp, mod)
			if first, _, _ := strings.Cut(imp, "/"); !inModule && strings.Contains(first, ".") {
				if !hasModule(thirdParty[pkg], imp) {
					t.Errorf("%s imports %s: not among its third-party imports %v", pkg, imp, thirdParty[pkg])
				}
				continue
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

// hasModule reports whether imp is one of mods or a package inside one.
func hasModule(mods []string, imp string) bool {
	for _, m := range mods {
		if imp == m || strings.HasPrefix(imp, m+"/") {
			return true
		}
	}
	return false
}
