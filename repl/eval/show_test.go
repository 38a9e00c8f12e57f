package eval

import (
	"strings"
	"testing"
)

// TestShowMethods checks that fmt and the shell's printer see the String
// and Error methods of types declared in the shell, and %T and %#v their
// names.
func TestShowMethods(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	runSteps(t, s, []step{
		{src: "type Celsius float64"},
		{src: `func (c Celsius) String() string { return fmt.Sprintf("%.1f°C", float64(c)) }`},
		{src: "Celsius(21.5)", want: "21.5°C"},
		{src: "type Weekday int\nconst (\n\tSunday Weekday = iota\n\tMonday\n)"},
		{src: `func (d Weekday) String() string { return [...]string{"Sun", "Mon"}[d] }`},
		{src: `fmt.Printf("%v %d %q|", Monday, Monday, Sunday)`},
		{src: "type MyErr struct{ Code int }"},
		{src: `func (e MyErr) Error() string { return fmt.Sprintf("code %d", e.Code) }`},
		{src: "fmt.Println(MyErr{7})"},
		{src: "var err error = MyErr{8}"},
		{src: `fmt.Printf("%v/%s|", err, err)`},
		{src: "err", want: "** (error) code 8"},
		{src: "type NotFound struct{ Key string }"},
		{src: `func (e *NotFound) Error() string { return "not found: " + e.Key }`},
		{src: `wrapped := fmt.Errorf("lookup: %w", &NotFound{"k"})`},
		{src: "wrapped.Error()", want: `"lookup: not found: k"`},
		{src: "var nf *NotFound"},
		{src: "errors.As(wrapped, &nf)", want: "true"},
		{src: "nf.Key", want: `"k"`},
		{src: "var other *MyErr"},
		{src: "errors.As(wrapped, &other)", want: "false"},
		{src: "type Point struct{ X, Y int }"},
		{src: `fmt.Sprintf("%T %T %T %5.2f%%", Point{}, &Point{}, []Point{}, 1.5)`, want: `"main.Point *main.Point []main.Point  1.50%"`},
		{src: `fmt.Sprintf("%#v|%+v", Point{1, 2}, Point{3, 4})`, want: `"main.Point{X:1, Y:2}|{X:3 Y:4}"`},
		{src: `fmt.Sprintf("%T %#v", "s", []string{"t"})`, want: `"string []string{\"t\"}"`},
	})
	want := "Mon 1 \"Sun\"|code 7\ncode 8/code 8|"
	if got := out.String(); got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
	// The shell's values are the values, not the wrappers that print them.
	res, err := s.shell.Eval(t.Context(), "Celsius(1.5)")
	if err != nil || len(res.Values) != 1 {
		t.Fatalf("Celsius(1.5): %v %v", res, err)
	}
	if f, ok := res.Values[0].(float64); !ok || f != 1.5 {
		t.Errorf("Celsius(1.5) value %#v, want the float64 1.5", res.Values[0])
	}
}

func TestFormatVerbs(t *testing.T) {
	for f, want := range map[string]string{
		"%v %T\n":    "vT",
		"%#v %d%%":   "#d",
		"%*d %-8.3T": "*dT",
		"%[2]T":      "!",
	} {
		vs, ok := formatVerbs(f)
		got := string(vs)
		if !ok {
			got = "!"
		}
		if got != want {
			t.Errorf("formatVerbs(%q) = %q, want %q", f, got, want)
		}
	}
	if got := stringVerbs("%*d %-8.3T %#v %%", map[int]bool{2: true, 3: true}); got != "%*d %s %s %%" {
		t.Errorf("stringVerbs = %q", got)
	}
	if got := strings.Count(stringVerbs("%v", map[int]bool{}), "%v"); got != 1 {
		t.Errorf("stringVerbs changed an unchanged verb")
	}
}

// TestTypeNamesRefused checks that %T and %#v refuse where the shell
// cannot tell a shell type from another type, rather than print a wrong
// name.
func TestTypeNamesRefused(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: `fmt.Sprintf("%T", 2.5)`, want: `"float64"`},
		{src: "type F float64"},
		{src: `fmt.Sprintf("%T", 2.5)`, want: "cannot tell a float64 from a value of F", err: true},
		{src: `fmt.Sprintf("%T", []F{})`, want: "cannot tell a float64 from a value of F", err: true},
		{src: `fmt.Sprintf("%#v", F(2.5))`, want: `"2.5"`}, // as Go prints it
		{src: `fmt.Sprintf("%T %#v", 1, 2)`, want: `"int 2"`},
		{src: "type A struct{ X int }"},
		{src: `fmt.Sprintf("%T", A{})`, want: `"main.A"`},
		{src: "type B struct{ X int }"},
		{src: `fmt.Sprintf("%T", A{})`, want: "A and B, declared in the shell, have the same fields", err: true},
		{src: `fmt.Sprintf("%v", A{})`, want: `"{0}"`},
	})
}

// TestErrorsAsValueType checks errors.As with a struct value type of the
// shell: the wrapper yaegi makes holds only part of such a value, so the
// shell refuses rather than answer false.
func TestErrorsAsValueType(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "type Code struct{ N int; S string }"},
		{src: `func (c Code) Error() string { return fmt.Sprint("code ", c.N) }`},
		{src: `wrapped := fmt.Errorf("x: %w", Code{7, "s"})`},
		{src: "wrapped.Error()", want: `"x: code 7"`},
		{src: "var c Code"},
		{src: "errors.As(wrapped, &c)", want: "errors.As cannot find a value of Code, a struct type declared in the shell", err: true},
		{src: "var target error"},
		{src: "errors.As(wrapped, &target)", want: "true"}, // an interface target is fine
		{src: `errors.Is(wrapped, wrapped)`, want: "true"},
	})
}

// TestPrintArgRefused checks that fmt refuses a value holding values of a
// shell type whose String method it would not see, and prints what it can.
func TestPrintArgRefused(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	runSteps(t, s, []step{
		{src: "type Celsius float64"},
		{src: `func (c Celsius) String() string { return fmt.Sprintf("%.1f°C", float64(c)) }`},
		{src: "fmt.Println([]Celsius{1.5, 2})", want: "fmt cannot tell the float64 values inside a slice from values of Celsius", err: true},
		{src: "fmt.Println(Celsius(3), []int{1})"}, // no int type has a method
		{src: "type P struct{ N string; Age int }"},
		{src: `func (p P) String() string { return "P:" + p.N }`},
		{src: `fmt.Sprint(P{"a", 1})`, want: `"P:a"`},
		{src: `fmt.Sprint([]P{{"b", 2}})`, want: "a value of P, declared in the shell with a String or Error method, reaches fmt inside a slice", err: true},
		{src: `var x any = P{"c", 3}`},
		{src: "fmt.Sprint(x)", want: "Give it its type back, as in v.(P)", err: true},
		{src: "fmt.Sprint(x.(P))", want: `"P:c"`},
		{src: "type Pair struct{ A, B int }"}, // int fields: certainly no Celsius
		{src: "fmt.Sprint(Pair{1, 2})", want: `"{1 2}"`},
		{src: "fmt.Sprint(map[string]Pair{\"k\": {3, 4}})", want: `"map[k:{3 4}]"`},
	})
	if got, want := out.String(), "3.0°C [1]\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}
