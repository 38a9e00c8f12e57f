package eval

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"reflect"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// Go 1.21's builtins min, max and clear, and the generic functions of
// slices and maps, are missing from yaegi (its binary slices and maps
// packages are empty, and its interpreted generics fail on most of them).
// The shell provides them where it can do so exactly:
//
//   - min and max of constants are folded into a constant, as Go does
//     (of variables: lower_minmax.go);
//   - clear(x) and the slices and maps functions that return no value of a
//     type parameter (Sort, SortFunc, Contains, Index, Reverse, Equal ...)
//     become calls of host functions that do the work through reflect: a
//     slice or a map reaches the host as itself, sharing its elements;
//   - slices.Max and Min become s[__gonode.SlicesMaxIndex(s)], which has the
//     element type, and slices.Clone(s) Go's own append(s[:0:0], s...),
//     for an operand s without side effects;
//   - maps.Clone, slices.Insert, Delete and Compact are computed before
//     the statement into a variable of their first argument's type, as min
//     and max are (lower_minmax.go);
//   - the others (maps.Keys, slices.Sorted ...) are refused with a message
//     saying what to write.

// genericHosts maps a slices or maps function to the host function that
// does its work.
var genericHosts = map[string]string{
	"slices.Sort": "SlicesSort", "slices.SortFunc": "SlicesSortFunc", "slices.SortStableFunc": "SlicesSortStableFunc",
	"slices.IsSorted": "SlicesIsSorted", "slices.Contains": "SlicesContains", "slices.ContainsFunc": "SlicesContainsFunc",
	"slices.Index": "SlicesIndex", "slices.IndexFunc": "SlicesIndexFunc", "slices.Reverse": "SlicesReverse",
	"slices.Equal": "SlicesEqual", "maps.Copy": "MapsCopy", "maps.DeleteFunc": "MapsDeleteFunc", "maps.Equal": "MapsEqual",
	"cmp.Compare": "CmpCompare", "cmp.Less": "CmpLess",
}

// indexed are the functions written as an index of their operand.
var indexed = map[string]string{"slices.Max": "SlicesMaxIndex", "slices.Min": "SlicesMinIndex"}

// genericResults are the numbers of results of the functions provided, for
// deciding what a call typed at the prompt prints (snippetNamer.Member):
// yaegi's slices and maps packages have no symbols to tell.
var genericResults = map[string]int{
	"slices.Sort": 0, "slices.SortFunc": 0, "slices.SortStableFunc": 0, "slices.Reverse": 0,
	"slices.IsSorted": 1, "slices.Contains": 1, "slices.ContainsFunc": 1, "slices.Index": 1,
	"slices.IndexFunc": 1, "slices.Equal": 1, "slices.Max": 1, "slices.Min": 1, "slices.Clone": 1,
	"maps.Copy": 0, "maps.DeleteFunc": 0, "maps.Equal": 1, "cmp.Compare": 1, "cmp.Less": 1,
	"maps.Clone": 1, "slices.Insert": 1, "slices.Delete": 1, "slices.Compact": 1,
}

func genericSymbols() map[string]reflect.Value {
	return map[string]reflect.Value{
		"Clear":                reflect.ValueOf(clearValue),
		"MinMax":               reflect.ValueOf(minMax),
		"MapsClone":            reflect.ValueOf(into(mapsClone)),
		"MapsCloneValue":       reflect.ValueOf(mapsClone),
		"SlicesInsert":         reflect.ValueOf(into(slicesInsert)),
		"SlicesInsertValue":    reflect.ValueOf(slicesInsert),
		"SlicesDelete":         reflect.ValueOf(into(slicesDelete)),
		"SlicesDeleteValue":    reflect.ValueOf(slicesDelete),
		"SlicesCompact":        reflect.ValueOf(into(slicesCompact)),
		"SlicesCompactValue":   reflect.ValueOf(slicesCompact),
		"SlicesSort":           reflect.ValueOf(slicesSort),
		"SlicesSortFunc":       reflect.ValueOf(func(s, f any) { slicesSortFunc(s, f, false) }),
		"SlicesSortStableFunc": reflect.ValueOf(func(s, f any) { slicesSortFunc(s, f, true) }),
		"SlicesIsSorted":       reflect.ValueOf(slicesIsSorted),
		"SlicesContains":       reflect.ValueOf(func(s, v any) bool { return slicesIndex(s, v) >= 0 }),
		"SlicesContainsFunc":   reflect.ValueOf(func(s, f any) bool { return slicesIndexFunc(s, f) >= 0 }),
		"SlicesIndex":          reflect.ValueOf(slicesIndex),
		"SlicesIndexFunc":      reflect.ValueOf(slicesIndexFunc),
		"SlicesReverse":        reflect.ValueOf(slicesReverse),
		"SlicesEqual":          reflect.ValueOf(slicesEqual),
		"SlicesMaxIndex":       reflect.ValueOf(func(s any) int { return extremeIndex(s, "slices.Max", 1) }),
		"SlicesMinIndex":       reflect.ValueOf(func(s any) int { return extremeIndex(s, "slices.Min", -1) }),
		"MapsCopy":             reflect.ValueOf(mapsCopy),
		"MapsDeleteFunc":       reflect.ValueOf(mapsDeleteFunc),
		"MapsEqual":            reflect.ValueOf(mapsEqual),
		"CmpCompare":           reflect.ValueOf(cmpCompare),
		"CmpLess":              reflect.ValueOf(func(a, b any) bool { return cmpCompare(a, b) < 0 }),
	}
}

// rewriteGenerics makes the rewrites above. It returns the refusal of a
// form the shell cannot provide.
func (in *Interp) rewriteGenerics(rw *rewrite) error {
	sn := rw.sn
	var err error
	fail := func(n ast.Node, format string, args ...any) {
		if err == nil {
			err = fmt.Errorf(lineOf(sn, n.Pos())+format, args...)
		}
	}
	for _, root := range sn.Roots() {
		ast.Inspect(root, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			name := calleeName(call.Fun)
			start, end := sn.Off(call.Pos()), sn.Off(call.End())
			switch {
			case (name == "min" || name == "max") && in.isBuiltin(sn, name):
				if c, ok := foldMinMax(call, name == "min"); ok {
					if rw.freeRange(start, end) {
						rw.replace(start, end, c)
					}
					return false
				}
				return true // of variables: rewriteMinMax (lower_minmax.go)
			case name == "clear" && in.isBuiltin(sn, name) && len(call.Args) == 1:
				if f, e := sn.Off(call.Fun.Pos()), sn.Off(call.Fun.End()); rw.freeRange(f, e) {
					rw.replace(f, e, rtName+".Clear")
				}
			case !strings.HasPrefix(name, "slices.") && !strings.HasPrefix(name, "maps.") && !strings.HasPrefix(name, "cmp."):
			case !in.isPackage(sn, name[:strings.IndexByte(name, '.')]):
			case intoHosts[name] != "":
				if !rw.replaced(start, end) { // not hoisted by rewriteMinMax: a package-level var of a file
					fail(call, "%s is not available here in the shell; assign it to a variable in a function or at the prompt: c := %s(x)", name, name)
				}
			case genericHosts[name] != "":
				if f, e := sn.Off(call.Fun.Pos()), sn.Off(call.Fun.End()); rw.freeRange(f, e) {
					rw.replace(f, e, rtName+"."+genericHosts[name])
				}
			case (indexed[name] != "" || name == "slices.Clone") && len(call.Args) == 1 && !syntax.SideEffects(call.Args[0]):
				a := call.Args[0]
				if !rw.freeRange(start, end) {
					break
				}
				s := "(" + rw.apply(sn.Off(a.Pos()), sn.Off(a.End())) + ")"
				if name == "slices.Clone" {
					rw.replace(start, end, "append("+s+"[:0:0], "+s+"...)")
				} else {
					rw.replace(start, end, s+"["+rtName+"."+indexed[name]+"("+s+")]")
				}
				return false
			default:
				fail(call, "%s is not available in the shell: its interpreter has no generic standard library. %s", name, instead(name))
			}
			return true
		})
	}
	return err
}

// instead says what to write in place of a generic function the shell
// does not provide.
func instead(name string) string {
	switch name {
	case "maps.Keys", "maps.Values", "slices.Sorted", "slices.Collect", "slices.All", "slices.Values":
		return "Collect in a loop: for k := range m { keys = append(keys, k) }, then slices.Sort(keys)"
	case "slices.Max", "slices.Min", "slices.Clone":
		return "Call it on a variable: x := f(); " + name + "(x)"
	}
	return "Write the loop it stands for"
}

// isBuiltin reports whether name means the builtin: nothing of the
// session or the snippet declares it.
func (in *Interp) isBuiltin(sn *syntax.Snippet, name string) bool {
	return in.isPackage(sn, name) && in.env.prelude.lookup(name) == nil
}

// foldMinMax returns min or max of constant arguments as a constant
// expression, and false when an argument is not a number or string
// literal, or strings and numbers mix (Go refuses that).
func foldMinMax(call *ast.CallExpr, isMin bool) (string, bool) {
	var best constant.Value
	bestText, float := "", false
	for i, a := range call.Args {
		v, text, ok := constOf(a)
		if !ok || i > 0 && (v.Kind() == constant.String) != (best.Kind() == constant.String) {
			return "", false
		}
		float = float || v.Kind() == constant.Float
		if i == 0 || constant.Compare(v, map[bool]token.Token{true: token.LSS, false: token.GTR}[isMin], best) {
			best, bestText = v, text
		}
	}
	if best == nil {
		return "", false
	}
	if float && best.Kind() == constant.Int {
		// A float argument makes the result an untyped float constant:
		// max(1, 0.5) is 1.0, of type float64 by default.
		return "(" + bestText + " + 0.0)", true
	}
	return "(" + bestText + ")", true
}

// constOf returns the value and source of a constant literal argument: a
// number, a string, or a number with a sign.
func constOf(e ast.Expr) (constant.Value, string, bool) {
	e = ast.Unparen(e)
	neg := false
	if u, ok := e.(*ast.UnaryExpr); ok && (u.Op == token.SUB || u.Op == token.ADD) {
		neg, e = u.Op == token.SUB, ast.Unparen(u.X)
	}
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind == token.IMAG || lit.Kind == token.CHAR {
		return nil, "", false
	}
	v := constant.MakeFromLiteral(lit.Value, lit.Kind, 0)
	if v.Kind() == constant.Unknown || (neg && v.Kind() == constant.String) {
		return nil, "", false
	}
	text := lit.Value
	if neg {
		v, text = constant.UnaryOp(token.SUB, v, 0), "-"+text
	}
	return v, text, true
}

// replaced reports whether an edit replaces exactly [start, end).
func (rw *rewrite) replaced(start, end int) bool {
	for _, e := range rw.edits {
		if e.start == start && e.end == end {
			return true
		}
	}
	return false
}
