package eval

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"regexp"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// yaegi runs an index expression and a field access through package
// reflect, so a snippet that indexes past the end of a slice or reads a
// field through a nil pointer panics with reflect's words ("reflect: slice
// index out of range", "reflect: call of reflect.Value.Field on zero
// Value"), which speak of the interpreter, not of the user's code. The
// shell turns them into the runtime errors a compiled program panics with.

// RuntimeError is a run-time panic of interpreted code, in Go's words: it
// implements runtime.Error, as a compiled program's would.
type RuntimeError struct{ msg string }

func (e *RuntimeError) Error() string { return "runtime error: " + e.msg }

// RuntimeError marks e as a runtime.Error.
func (e *RuntimeError) RuntimeError() {}

const nilDeref = "invalid memory address or nil pointer dereference"

// methodNotFound is yaegi's panic for a method called on a nil interface.
var methodNotFound = regexp.MustCompile(`^(?:\d+:\d+: )?method not found: (\w+)$`)

// callsMethod reports whether sn calls a method named name (x.name(...)).
func callsMethod(sn *syntax.Snippet, name string) bool {
	found := false
	for _, root := range sn.Roots() {
		ast.Inspect(root, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == name {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// runtimeText returns Go's text (without "runtime error: ") for a panic
// value raised by reflect inside yaegi, and whether v is one; index says
// the panic is an index out of range, whose numbers reflect does not give.
func runtimeText(v any) (msg string, index bool, ok bool) {
	var ve *reflect.ValueError
	if err, isErr := v.(error); isErr && errors.As(err, &ve) && ve.Kind == reflect.Invalid {
		// A nil pointer dereferenced: its Elem is the zero Value, whose
		// Field (p.X) or use as an argument (*p) then panics.
		return nilDeref, false, true
	}
	s, isStr := v.(string)
	switch {
	case !isStr:
		return "", false, false
	case strings.HasSuffix(s, "using zero Value argument"):
		return nilDeref, false, true
	case s == "reflect: slice index out of range", s == "reflect: array index out of range", s == "reflect: string index out of range":
		return "index out of range", true, true
	case strings.HasSuffix(s, "slice index out of bounds"):
		return "slice bounds out of range", false, true
	}
	return "", false, false
}

// explainRuntime replaces a panic of reflect's words by Go's runtime error.
// For an index out of range it looks for the numbers Go gives ("[5] with
// length 3") among the index expressions of the snippet's top-level
// statements, evaluating each operand again: only those whose operands
// have no side effects and name no variable of an inner scope, so that
// what is evaluated is what the failed statement indexed.
func (in *Interp) explainRuntime(ctx context.Context, sn *syntax.Snippet, err error) error {
	var pe *PanicError
	if !errors.As(err, &pe) {
		return err
	}
	if fmt.Sprint(pe.Value) == "nil type" {
		if f := in.rangeOverFunc(sn); f != "" {
			return fmt.Errorf("range over a function (Go 1.23) is not supported in the shell: its interpreter predates it. Call the function with the loop's body instead: %s(func(x T) bool { ...; return true })", f)
		}
		return err
	}
	msg, index, ok := runtimeText(pe.Value)
	if m := methodNotFound.FindStringSubmatch(fmt.Sprint(pe.Value)); m != nil && callsMethod(sn, m[1]) {
		// A method called on a nil interface value: yaegi finds no method
		// where a compiled program dereferences a nil pointer.
		msg, ok = nilDeref, true
	}
	if !ok {
		return err
	}
	if index && sn.Kind == syntax.Stmts {
		if nums := in.indexNumbers(ctx, sn); nums != "" {
			msg += " " + nums
		}
	}
	return &PanicError{Value: &RuntimeError{msg}, Stack: pe.Stack}
}

// indexNumbers returns "[i] with length n" for the first top-level index
// expression of sn whose index is out of range now, or "".
func (in *Interp) indexNumbers(ctx context.Context, sn *syntax.Snippet) string {
	for _, ix := range topLevelIndexes(sn) {
		in.takeResult()
		src := rtName + ".Result(" + sn.Text(ix.X) + ", " + sn.Text(ix.Index) + ")"
		if in.evalRaw(ctx, src) != nil {
			continue
		}
		vals := in.takeResult()
		if len(vals) != 2 {
			continue
		}
		if s := outOfRange(vals[0], vals[1]); s != "" {
			return s
		}
	}
	return ""
}

// outOfRange says how index i is out of range of x, Go's way, or "" when
// it is not (or x is not something with a length that an index checks).
func outOfRange(x, i any) string {
	xv, iv := reflect.ValueOf(x), reflect.ValueOf(i)
	if xv.Kind() == reflect.Ptr && !xv.IsNil() && xv.Elem().Kind() == reflect.Array {
		xv = xv.Elem()
	}
	switch xv.Kind() {
	case reflect.Slice, reflect.Array, reflect.String:
	default:
		return ""
	}
	var n int64
	switch {
	case iv.CanInt():
		n = iv.Int()
	case iv.CanUint() && iv.Uint() < 1<<62:
		n = int64(iv.Uint())
	default:
		return ""
	}
	switch {
	case n < 0:
		return fmt.Sprintf("[%d]", n)
	case n >= int64(xv.Len()):
		return fmt.Sprintf("[%d] with length %d", n, xv.Len())
	}
	return ""
}

// topLevelIndexes lists the index expressions of sn's statements outside
// blocks and function literals (where names may be the block's own),
// whose operands have no side effects, in source order.
func topLevelIndexes(sn *syntax.Snippet) []*ast.IndexExpr {
	var out []*ast.IndexExpr
	for _, s := range sn.Statements() {
		ast.Inspect(s, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit, *ast.BlockStmt:
				return false
			case *ast.IndexExpr:
				if !syntax.SideEffects(n.X) && !syntax.SideEffects(n.Index) {
					out = append(out, n)
				}
			}
			return true
		})
	}
	return out
}

// rangeOverFunc returns the text of the range expression of sn that calls
// or names a session function whose result is a function (an iterator,
// which yaegi cannot range over: it panics with "nil type"), or "".
func (in *Interp) rangeOverFunc(sn *syntax.Snippet) string {
	found := ""
	for _, root := range sn.Roots() {
		ast.Inspect(root, func(n ast.Node) bool {
			rs, ok := n.(*ast.RangeStmt)
			if !ok || found != "" {
				return found == ""
			}
			x := ast.Unparen(rs.X)
			if c, ok := x.(*ast.CallExpr); ok {
				x = c.Fun
			}
			if id, ok := x.(*ast.Ident); ok && in.returnsFunc(id.Name) {
				found = sn.Text(rs.X)
			}
			return true
		})
	}
	return found
}

// returnsFunc reports whether name is a session function whose only result
// is a function.
func (in *Interp) returnsFunc(name string) bool {
	e := in.tab.lookup(name)
	if e == nil || e.Kind != syntax.DeclFunc {
		return false
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+e.Src, parser.SkipObjectResolution)
	if err != nil || len(f.Decls) != 1 {
		return false
	}
	fd, ok := f.Decls[0].(*ast.FuncDecl)
	if !ok || fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
		return false
	}
	_, isFunc := fd.Type.Results.List[0].Type.(*ast.FuncType)
	return isFunc
}
