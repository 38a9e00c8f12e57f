package repl

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeListsHelpers keeps help() and the README's helper list one text.
func TestReadmeListsHelpers(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), helpText) {
		t.Fatal("README.md's helper list differs from help(): copy helpText from repl/api.go into the README")
	}
}

// TestPreludeHelpersAreDocumented checks that every helper the prelude
// declares is named in help().
func TestPreludeHelpersAreDocumented(t *testing.T) {
	for _, line := range strings.Split(prelude, "\n") {
		name, ok := strings.CutPrefix(line, "func ")
		if !ok {
			continue
		}
		name = name[:strings.IndexAny(name, "[(")] // as[T any](...): as[
		if !strings.Contains(helpText, name+"(") && !strings.Contains(helpText, name+"[") {
			t.Errorf("helper %s is missing from help()", name)
		}
	}
}
