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
		{src: "min(x, 2)", want: "min of anything but number and string literals is not available", err: true},
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
		{src: "maps.Clone(n)", want: "maps.Clone is not available in the shell", err: true},
		{src: "slices.Sorted(maps.Keys(n))", want: "slices.Sorted is not available in the shell", err: true},
		// A function of the session's own under the same name is the user's.
		{src: "func clear(v int) int { return v + 1 }"},
		{src: "clear(1)", want: "2"},
	})
}
