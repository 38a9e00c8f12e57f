package eval

import "testing"

func TestUndefinedNames(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "y := undefinedThing", want: "undefined: undefinedThing", err: true},
		{src: "var z = 1 + undefinedThing", want: "undefined: undefinedThing", err: true},
		{src: "w := nopkg.Member", want: "undefined: nopkg", err: true},
		{src: "v := strings.ToUpper(nosuch)", want: "undefined: nosuch", err: true},
		{src: "u := double(3)", want: ""},
		{src: "u", want: "6"},
	})
}

// A declaration and statements on one line run as statements.
func TestDeclThenStatements(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "var arr []int; arr[5]", want: "index out of range", err: true},
		{src: "var xs = []int{1, 2}; xs[1]", want: "2"},
		{src: "xs", want: "[1, 2]"},
		{src: "const k = 3; k * 2", want: "6"},
		{src: "k", want: "3"},
		{src: "type P struct{ X int }; P{4}.X", want: "4"},
	})
}

// A failed declaration of a variable again leaves its value as it was.
func TestFailedRedeclarationKeepsValue(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "x := 5", want: ""},
		{src: `x := "s" + 1`, want: "mismatched types", err: true},
		{src: "x", want: "5"},
		{src: "x := nosuch", want: "undefined: nosuch", err: true},
		{src: "x", want: "5"},
		{src: "xs := []string{\"a\"}", want: ""},
		{src: "xs, n := []string{\"b\"}, 1/0", want: "division by zero", err: true},
		{src: "xs", want: `["a"]`},
		{src: `x := 7; panic("p")`, want: "p", err: true},
		{src: "x", want: "5"},
		// A function that uses x keeps seeing the same x.
		{src: "func F() int { return x }", want: ""},
		{src: `x := "s" + 1`, want: "mismatched types", err: true},
		{src: "x = 6", want: ""},
		{src: "F()", want: "6"},
	})
}
