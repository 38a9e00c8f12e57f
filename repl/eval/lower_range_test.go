package eval

import (
	"strings"
	"testing"
)

// TestRangeInt runs ranges over integers (lower_range.go) at top level and
// in functions declared in the shell.
func TestRangeInt(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	runSteps(t, s, []step{
		{src: "for i := range 3 {\n\tfmt.Print(i, \" \")\n}"},
		{src: "func count(n int) int {\n\ttotal := 0\n\tfor i := range n {\n\t\ttotal += i\n\t}\n\treturn total\n}"},
		{src: "count(5)", want: "10"},
		{src: "n := 0\nfor range 4 {\n\tn++\n}"},
		{src: "n", want: "4"},
		{src: "calls := 0; next := func() int { calls++; return 2 }"},
		{src: "for i := range int(next()) { fmt.Print(i, \" \") }"}, // the count is evaluated once
		{src: "calls", want: "1"},
		{src: "for i := range 3 { i += 10; fmt.Print(i, \" \") }"}, // i is the iteration's own
		{src: "var k int64 = 2; for i := range k { fmt.Printf(\"%T \", i) }"},
		{src: "outer:\nfor i := range n {\n\tfor j := range len(\"ab\") {\n\t\tif j > i {\n\t\t\tcontinue outer\n\t\t}\n\t\tfmt.Print(i, j, \" \")\n\t}\n}"},
		// Each iteration's own variable, in a function (at top level yaegi
		// shares the variables of a loop body between iterations).
		{src: "func mk() []func() int {\n\tfs := []func() int{}\n\tfor i := range 2 {\n\t\tfs = append(fs, func() int { return i })\n\t}\n\treturn fs\n}"},
		{src: "mk()[0]()", want: "0"},
	})
	want := "0 1 2 0 1 10 11 12 int64 int64 0 0 1 0 1 1 2 0 2 1 3 0 3 1 "
	if got := out.String(); got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}

// TestRangeIntRewrite checks which ranges are lowered.
func TestRangeIntRewrite(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{{src: "xs := []int{1, 2}"}, {src: "m := 3"}})
	for src, want := range map[string]bool{
		"for i := range 3 {}":                                                 true,
		"for range m {}":                                                      true, // a session variable holding an int
		"for i := range xs {}":                                                false,
		"for i := range \"abc\" {}":                                           false,
		"for i, x := range xs { _, _ = i, x }":                                false,
		"func f(s []int) { for i := range s {} }":                             false,
		"func f(n uint8) { for i := range n {} }":                             true,
		"xs := 2; for i := range xs {}":                                       true,  // declared by the snippet
		"ys := 2; for y := range []int{} { ys := []int{y}; for range ys {} }": false, // declared both ways
	} {
		if got := strings.Contains(lowered(t, s, src), lowerTemp); got != want {
			t.Errorf("%q lowered: %v, want %v", src, got, want)
		}
	}
}
