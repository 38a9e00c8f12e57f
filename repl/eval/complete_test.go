package eval

import (
	"strings"
	"testing"
)

func TestComplete(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "func Compute(n int) int { return n }"},
		{src: "counter := 0"},
		{src: `import r "math/rand"`},
	})
	tests := []struct {
		line  string
		pos   int // -1: end of line
		has   []string
		not   []string
		start int
	}{
		{line: "Comp", pos: -1, has: []string{"Compute"}, start: 0},
		{line: "x := coun", pos: -1, has: []string{"counter"}, start: 5},
		{line: "strings.ToU", pos: -1, has: []string{"strings.ToUpper"}, not: []string{"strings.Join"}, start: 0},
		{line: "f(strings.Rep", pos: -1, has: []string{"strings.Repeat", "strings.Replace", "strings.ReplaceAll"}, start: 2},
		{line: "r.Int", pos: -1, has: []string{"r.Intn"}, start: 0},
		{line: "Tic", pos: -1, has: []string{"Tick"}},               // dot-imported host function
		{line: "spa", pos: -1, has: []string{"spawn"}},              // lowercase host helper
		{line: "dou", pos: -1, has: []string{"double"}},             // prelude function
		{line: "app", pos: -1, has: []string{"append"}},             // builtin
		{line: "str", pos: -1, has: []string{"strings", "strconv"}}, // packages
		{line: "fu", pos: -1, has: []string{"func"}},                // keyword
		{line: "__go", pos: -1, not: []string{"__gonode"}},          // plumbing stays hidden
		{line: "Compute(cou) + 1", pos: 11, has: []string{"counter"}, start: 8},
		{line: "nosuchpkg.X", pos: -1},
	}
	for _, tt := range tests {
		pos := tt.pos
		if pos < 0 {
			pos = len(tt.line)
		}
		cands, start := s.Complete(tt.line, pos)
		for _, h := range tt.has {
			if !contains(cands, h) {
				t.Errorf("Complete(%q, %d) = %q lacks %q", tt.line, pos, cands, h)
			}
		}
		for _, n := range tt.not {
			if contains(cands, n) {
				t.Errorf("Complete(%q, %d) has %q", tt.line, pos, n)
			}
		}
		if len(tt.has) > 0 && start != tt.start {
			t.Errorf("Complete(%q, %d) start %d, want %d", tt.line, pos, start, tt.start)
		}
		for _, c := range cands {
			if !strings.HasPrefix(c, tt.line[start:pos]) {
				t.Errorf("Complete(%q): %q does not extend the fragment", tt.line, c)
			}
		}
	}
}
