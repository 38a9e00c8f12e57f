package syntax

import (
	"go/ast"
	"go/token"
	"sort"
)

// How many values a call yields, as far as the syntax can tell: the shell
// prints only the values of an expression, and yaegi's own answer is stale
// after a void call.

// NameKind says what an identifier or a package member names, for deciding
// how many values a call yields.
type NameKind uint8

const (
	NameUnknown NameKind = iota // not known: evaluate the callee to find out
	NameType                    // a type: the call is a conversion, one value
	NameFunc                    // a function with a known number of results
)

// Namer answers what names mean in the interpreter a snippet will run in:
// the syntax alone cannot tell a function from a variable holding one.
type Namer interface {
	// Ident says what a name means, and a function's number of results.
	Ident(name string) (NameKind, int)
	// Member says what pkg.name means, and a function's number of results.
	Member(pkg, name string) (NameKind, int)
}

// builtinResults are the builtin functions with their numbers of results.
var builtinResults = map[string]int{
	"append": 1, "cap": 1, "complex": 1, "copy": 1, "imag": 1, "len": 1, "make": 1,
	"max": 1, "min": 1, "new": 1, "real": 1, "recover": 1,
	"clear": 0, "close": 0, "delete": 0, "panic": 0, "print": 0, "println": 0,
}

// predeclaredTypes are the universe scope's type names.
var predeclaredTypes = map[string]bool{
	"any": true, "bool": true, "byte": true, "comparable": true, "complex64": true,
	"complex128": true, "error": true, "float32": true, "float64": true, "int": true,
	"int8": true, "int16": true, "int32": true, "int64": true, "rune": true,
	"string": true, "uint": true, "uint8": true, "uint16": true, "uint32": true,
	"uint64": true, "uintptr": true,
}

// ResultCount says how many values call yields, or -1 when only evaluating
// its callee can tell (the evaluator then does). Builtins come from a
// table, conversions from the callee being a type, func literals from their
// signature, declared functions from their declarations and host functions
// from their reflect type.
func ResultCount(call *ast.CallExpr, nm Namer) int {
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.ArrayType, *ast.MapType, *ast.ChanType, *ast.FuncType,
		*ast.InterfaceType, *ast.StructType, *ast.StarExpr:
		return 1
	case *ast.FuncLit:
		return fieldCount(f.Type.Results)
	case *ast.Ident:
		kind, n := nm.Ident(f.Name)
		switch {
		case kind == NameType:
			return 1
		case kind == NameFunc:
			return n
		case kind == NameUnknown && predeclaredTypes[f.Name]:
			return 1
		}
		if n, ok := builtinResults[f.Name]; ok && kind == NameUnknown {
			return n
		}
	case *ast.SelectorExpr:
		if pkg, ok := f.X.(*ast.Ident); ok {
			switch kind, n := nm.Member(pkg.Name, f.Sel.Name); kind {
			case NameType:
				return 1
			case NameFunc:
				return n
			}
		}
	}
	return -1
}

// fieldCount counts the fields of a parameter or result list, each name of
// "a, b int" apart.
func fieldCount(fl *ast.FieldList) int {
	if fl == nil {
		return 0
	}
	n := 0
	for _, f := range fl.List {
		if len(f.Names) == 0 {
			n++
		}
		n += len(f.Names)
	}
	return n
}

// SideEffects reports whether evaluating e may do more than read variables:
// calls, receives and func literals. Such a callee is evaluated once, into a
// temporary, before the call.
func SideEffects(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr, *ast.FuncLit:
			found = true
		case *ast.UnaryExpr:
			found = found || n.Op == token.ARROW
		}
		return !found
	})
	return found
}

// Builtins returns the names of the builtin functions, for completion.
func Builtins() []string { return keys(builtinResults) }

// PredeclaredTypes returns the universe scope's type names, for completion.
func PredeclaredTypes() []string { return keys(predeclaredTypes) }

// IsPredeclaredType reports whether name is a type of the universe scope
// (int, string, any ...).
func IsPredeclaredType(name string) bool { return predeclaredTypes[name] }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
