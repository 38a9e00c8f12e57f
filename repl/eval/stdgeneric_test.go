package eval

import "testing"

// TestGenericStdlib checks Go 1.21's min, max and clear and the slices,
// maps and cmp functions the shell provides, and the refusals of those
// it does not.
func TestGenericStdlib(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "fmt.Sprint(min(3, 1, 2), max(3, 1, 2), min(2.5, 1.5), max(\"a\", \"b\"))", want: `"1 3 1.5b"`}, // Sprint puts no space next to a string
		{src: "max(1, 0.5)", want: "1.0"}, // an untyped float constant
		{src: "min(-3, 2) * 2", want: "-6"},
		{src: "x := 3"},
		{src: "min(x, 2)", want: "2"}, // printed only: the host computes it
		{src: `m := map[string]int{"a": 1, "b": 2}`},
		{src: "clear(m)"},
		{src: "len(m)", want: "0"},
		{src: "xs := []int{3, 1, 2}"},
		{src: "slices.Sort(xs)"},
		{src: "xs", want: "[1, 2, 3]"},
		{src: "slices.IsSorted(xs)", want: "true"},
		{src: "clear(xs)"},
		{src: "xs", want: "[0, 0, 0]"},
		{src: "fs := []float64{2, 1.5}"},
		{src: "slices.Contains(fs, 2)", want: "true"},
		{src: "slices.Index(fs, 1.5)", want: "1"},
		{src: `slices.Index([]string{"a"}, "z")`, want: "-1"},
		{src: "slices.Max(fs) + 1", want: "3.0"}, // the element's type
		{src: "slices.Min([]int{})", want: "slices.Min: empty list", err: true},
		{src: "ys := []int{1, 5, 2}; slices.Reverse(ys)"},
		{src: "ys", want: "[2, 5, 1]"},
		{src: "zs := slices.Clone(ys); zs[0] = 9"},
		{src: "fmt.Sprint(ys, zs, slices.Equal(ys, zs))", want: `"[2 5 1] [9 5 1] false"`},
		{src: "type P struct {\n\tName string\n\tAge  int\n}"},
		{src: `ps := []P{{"b", 30}, {"a", 20}, {"c", 25}}`},
		{src: "slices.SortFunc(ps, func(x, y P) int { return cmp.Compare(x.Age, y.Age) })"},
		{src: "fmt.Sprint(ps)", want: `"[{a 20} {c 25} {b 30}]"`},
		{src: `slices.IndexFunc(ps, func(p P) bool { return p.Name == "b" })`, want: "2"},
		{src: `n := map[string]int{"k": 1}; maps.Copy(n, map[string]int{"j": 2})`},
		{src: "len(n)", want: "2"},
		{src: "maps.DeleteFunc(n, func(k string, v int) bool { return v > 1 })"},
		{src: `maps.Equal(n, map[string]int{"k": 1})`, want: "true"},
		{src: "n2 := maps.Clone(n); n2[\"z\"] = 26"},
		{src: "fmt.Sprint(len(n), len(n2))", want: `"1 2"`},
		{src: "maps.Clone(n)", want: `%{"k" => 1}`},
		{src: "var nilMap map[string]int; maps.Clone(nilMap) == nil", want: "true"},
		{src: "cs := []int{1, 1, 2, 2, 2, 3}; cs = slices.Compact(cs)"},
		{src: "cs", want: "[1, 2, 3]"},
		{src: "cs = slices.Insert(cs, 1, 7, 8); cs = slices.Delete(cs, 0, 1)"},
		{src: "cs", want: "[7, 8, 2, 3]"},
		{src: "func cloneOf(m map[string]int) map[string]int { return maps.Clone(m) }"},
		{src: "len(cloneOf(n))", want: "1"},
		{src: "x2 := maps.Clone(cloneOf(n))", want: "maps.Clone with arguments that call functions is not available", err: true},
		{src: "slices.Sorted(maps.Keys(n))", want: "slices.Sorted is not available in the shell", err: true},
		// A function of the session's own under the same name is the user's.
		{src: "func clear(v int) int { return v + 1 }"},
		{src: "clear(1)", want: "2"},
	})
}

// TestMinMaxOfVariables checks min and max of variables, computed in
// statements put before the statement that uses them, and the refusals.
func TestMinMaxOfVariables(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	runSteps(t, s, []step{
		{src: "a, b, f := 3, 7, 2.5"},
		{src: "m := min(a, b) * 10"},
		{src: "m", want: "30"},
		{src: "x := 1; max(a, b) - x", want: "6"}, // typed last, after a statement
		{src: "var w = max(f, 1)"},
		{src: "w", want: "2.5"},
		{src: "func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }"},
		{src: "fmt.Sprint(clamp(12, 0, 10), clamp(-4, 0, 10), clamp(5, 0, 10))", want: `"10 0 5"`},
		{src: "best := 0; for _, v := range []int{4, 9, 2} { best = max(best, v) }; best", want: "9"},
		{src: "if min(a, b) == 3 { fmt.Print(\"three|\") }"},
		{src: "fmt.Println(max(a, 4), min(f, 2))"},
		{src: `min("b", s2)`, want: "undefined: s2", err: true},
		{src: "nan := math.NaN(); fmt.Print(min(nan, f), max(f, nan), \"|\")"},
		{src: "max(float64(a), f)", want: "3.0"},
		{src: "for i := 0; i < min(a, 2); i++ {}", want: "min of variables in a for loop's condition is not available", err: true},
		{src: "ok := true; if ok && max(a, b) > 1 {}", want: "max of variables after && or || is not available", err: true},
		{src: "min(a, b) * 2", want: "min of variables in this statement is not available", err: true},
		{src: "max(a, len(strings.Repeat(\"x\", 9)))", want: "9"}, // printed only: the host computes it
		{src: "y := max(a, len(strings.Repeat(\"x\", 9)))", want: "with arguments that call functions", err: true},
	})
	if got, want := out.String(), "three|4 2\nNaN NaN|"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}
