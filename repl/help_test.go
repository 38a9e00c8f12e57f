package repl

import (
	"strings"
	"testing"
)

// TestEveryHelperHasHelp checks that help(name) knows every helper the
// prelude declares, names it in its signatures, and gives an example.
func TestEveryHelperHasHelp(t *testing.T) {
	for _, line := range strings.Split(prelude, "\n") {
		name, ok := strings.CutPrefix(line, "func ")
		if !ok {
			continue
		}
		name = name[:strings.IndexAny(name, "[(")] // as[T any](...): as
		text, err := helpFor(name)
		if err != nil {
			t.Errorf("help(%s): %v", name, err)
			continue
		}
		usage, _, _ := strings.Cut(text, "\n\n")
		if !strings.Contains(usage, name+"(") && !strings.Contains(usage, name+"[") || !strings.Contains(text, "\nExample:\n  ") {
			t.Errorf("help(%s) lacks its signature or an example:\n%s", name, text)
		}
	}
	for alias, key := range sameAs {
		if _, ok := topics[key]; !ok {
			t.Errorf("%s is documented with %s, which has no help", alias, key)
		}
	}
	if _, err := helpFor("nope"); err == nil || !strings.Contains(err.Error(), `no help for "nope"`) {
		t.Errorf("help(nope): %v", err)
	}
}
