package eval

import "testing"

// TestSharedPackageNames checks that a name several standard packages
// share means the preferred package without an import, and the imported
// one after an import, in the shell and in its completions.
func TestSharedPackageNames(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "rand.New(rand.NewSource(1)).Intn(10) < 10", want: "true"},
		{src: "func roll() int { return rand.Intn(6) }"},
		{src: "roll() < 6", want: "true"},
		{src: `template.New("t").Name()`, want: `"t"`},
	})
	if cands, _ := s.Complete("rand.Int", 8); !contains(cands, "rand.Intn") {
		t.Errorf("completions of rand.Int: %q lack rand.Intn", cands)
	}
	// The generic functions the shell provides complete too.
	if cands, _ := s.Complete("x := slices.So", 14); !contains(cands, "slices.Sort") || !contains(cands, "slices.SortFunc") {
		t.Errorf("completions of slices.So: %q", cands)
	}
	if cands, _ := s.Complete("cmp.C", 5); !contains(cands, "cmp.Compare") {
		t.Errorf("completions of cmp.C: %q", cands)
	}
	runSteps(t, s, []step{
		{src: `import "crypto/rand"`},
		{src: "rand.Reader != nil", want: "true"},
		{src: "rand.Intn(2)", want: "no symbol Intn", err: true},
	})
	if cands, _ := s.Complete("rand.Rea", 8); !contains(cands, "rand.Reader") {
		t.Errorf("completions of rand.Rea after importing crypto/rand: %q lack rand.Reader", cands)
	}
	// A fresh session: crypto/rand's name is not taken by the alias.
	s2 := newTestSession(t, newHost())
	runSteps(t, s2, []step{
		{src: `import "crypto/rand"`},
		{src: "b := make([]byte, 4); n, err := rand.Read(b); fmt.Sprint(n, err)", want: `"4 <nil>"`},
	})
}
