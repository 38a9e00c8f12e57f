package eval

import (
	"testing"
)

// Declaring a session variable again keeps what the input reads of it
// before and in the declaration: the old value (iex's x = x + 1).
func TestRedeclarationReadsTheOldValue(t *testing.T) {
	for _, tt := range []struct {
		srcs []string
		want string
	}{
		{[]string{`x := 1`, `x := x + 1`, `fmt.Print(x)`}, "2"},
		{[]string{`x := 5`, `fmt.Print(x, ";"); x := "s"; fmt.Print(x)`}, "5;s"},
		{[]string{`n := 1; n := n * 10; n := n + 1; fmt.Print(n)`}, "11"},
		{[]string{`w := 1`, `w, q := w + 1, 2`, `fmt.Print(w, q)`}, "2 2"},
		{[]string{`var z = 3`, `var z = z * 2`, `fmt.Print(z)`}, "6"},
		{[]string{`var k int64 = 4`, `var k int64 = k + 1`, `fmt.Printf("%T %d", k, k)`}, "int64 5"},
		{[]string{`s := []int{1}`, `s := append(s, 2)`, `fmt.Print(s)`}, "[1 2]"},
	} {
		var out syncBuffer
		s := newTestSessionOut(t, newHost(), &out)
		evalAll(t, s, tt.srcs...)
		if got := out.String(); got != tt.want {
			t.Errorf("%q printed %q, want %q", tt.srcs, got, tt.want)
		}
	}
}

// The value of an expression typed after the redeclaration is shown.
func TestRedeclarationShowsTheFinalValue(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{{src: `x := 20`}, {src: `x := x + 1; x * 2`, want: "42"}})
}
