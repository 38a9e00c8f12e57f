package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// buildEmbedExample builds examples/embed, a Go program that embeds a
// node, into a directory of its own and returns the directory: scripts
// run it as embedsvc (testdata/embed.txtar). It is built as a program of
// its own, as a user builds it, not run from the test binary: its main
// package cannot be imported.
func buildEmbedExample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "embedsvc"), "github.com/gonode/gonode/examples/embed")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/embed: %v\n%s", err, out)
	}
	return dir
}
