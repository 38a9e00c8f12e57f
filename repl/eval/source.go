package eval

import (
	"context"
	"fmt"
	"io"
	"math"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// sourceFunc is the variable a bundle's source text binds its function to.
const sourceFunc = "__gonode_main"

// Source renders a Bundle as one self-contained Go source text, for a
// distribution layer that carries function literals as source: the
// declarations, then each captured variable as a var declaration whose
// value is written as a Go literal, then the function. Compile evaluates it
// on the other side, under the same Options.
//
// A captured value needs a Go literal: numbers, strings and booleans;
// slices, arrays, maps and pointers to structs of literal values; values of
// host types the export maps name (proc.Pid{Node: ...}) whose fields are
// all exported. Anything else (a channel, a struct with unexported fields
// such as time.Time) is a *ShipError. Safe for concurrent use.
func (s *Session) Source(b Bundle) (string, error) {
	var src strings.Builder
	src.WriteString(b.Decls)
	for _, c := range b.Captures {
		if c.Value == nil {
			fmt.Fprintf(&src, "var %s any\n", c.Name)
			continue
		}
		lit, err := s.env.literal(reflect.ValueOf(c.Value), 0)
		if err != nil {
			return "", shipErrorf("the function captures %s, whose value has no Go literal: %v", c.Name, err)
		}
		fmt.Fprintf(&src, "var %s = %s\n", c.Name, lit)
	}
	fmt.Fprintf(&src, "var %s = %s\n", sourceFunc, b.Func)
	return src.String(), nil
}

// Compile returns the function of a source text made by Source (output to
// stdout, or Options.Stdout when nil), as Load does for a Bundle: in an
// interpreter of the session's pool that holds exactly this text, its var
// initializers evaluated again, or in a new one. Release the Func after
// its call.
func (s *Session) Compile(ctx context.Context, source string, stdout io.Writer) (*Func, error) {
	return s.compileSource(ctx, source, stdout)
}

// typeName returns how interpreted code names a host type: pkg.Name, from
// the export maps, with pkg a name ImportUsed provides without ambiguity.
func (e *env) typeName(t reflect.Type) (string, bool) {
	e.typesOnce.Do(func() {
		e.types = map[reflect.Type]string{}
		for name, key := range e.pkgs {
			for sym, v := range e.exportsOf(key) {
				if v.Kind() == reflect.Ptr && v.IsNil() {
					e.types[v.Type().Elem()] = name + "." + sym
				}
			}
		}
	})
	n, ok := e.types[t]
	return n, ok
}

// typeExpr writes t as Go source.
func (e *env) typeExpr(t reflect.Type) (string, error) {
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name(), nil // predeclared
		}
		if n, ok := e.typeName(t); ok {
			return n, nil
		}
		return "", fmt.Errorf("type %s (from %s) is not in the export maps", t, path.Base(t.PkgPath()))
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Ptr:
		elem, err := e.typeExpr(t.Elem())
		if err != nil {
			return "", err
		}
		switch t.Kind() {
		case reflect.Slice:
			return "[]" + elem, nil
		case reflect.Array:
			return "[" + strconv.Itoa(t.Len()) + "]" + elem, nil
		}
		return "*" + elem, nil
	case reflect.Map:
		k, err := e.typeExpr(t.Key())
		if err != nil {
			return "", err
		}
		v, err := e.typeExpr(t.Elem())
		if err != nil {
			return "", err
		}
		return "map[" + k + "]" + v, nil
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return "any", nil
		}
	}
	return "", fmt.Errorf("%s has no name in the shell", t)
}

// literal writes v as a Go expression of v's type.
func (e *env) literal(v reflect.Value, depth int) (string, error) {
	if !v.IsValid() {
		return "nil", nil
	}
	if depth > 32 {
		return "", fmt.Errorf("nested too deep (a cycle?)")
	}
	t := v.Type()
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "nil", nil
		}
		return e.literal(v.Elem(), depth+1)
	}
	te, err := e.typeExpr(t)
	if err != nil {
		return "", err
	}
	switch k := v.Kind(); {
	case k == reflect.Bool:
		return te + "(" + strconv.FormatBool(v.Bool()) + ")", nil
	case k == reflect.String:
		return te + "(" + strconv.Quote(v.String()) + ")", nil
	case v.CanInt():
		return te + "(" + strconv.FormatInt(v.Int(), 10) + ")", nil
	case v.CanUint():
		return te + "(" + strconv.FormatUint(v.Uint(), 10) + ")", nil
	case v.CanFloat():
		return te + "(" + floatLit(v.Float()) + ")", nil
	case v.CanComplex():
		c := v.Complex()
		return te + "(complex(" + floatLit(real(c)) + ", " + floatLit(imag(c)) + "))", nil
	case k == reflect.Slice && v.IsNil(), k == reflect.Map && v.IsNil(), k == reflect.Ptr && v.IsNil():
		return te + "(nil)", nil
	case k == reflect.Slice || k == reflect.Array:
		elems := make([]string, v.Len())
		for i := range elems {
			if elems[i], err = e.literal(v.Index(i), depth+1); err != nil {
				return "", err
			}
		}
		return te + "{" + strings.Join(elems, ", ") + "}", nil
	case k == reflect.Map:
		var elems []string
		it := v.MapRange()
		for it.Next() {
			kl, err := e.literal(it.Key(), depth+1)
			if err != nil {
				return "", err
			}
			vl, err := e.literal(it.Value(), depth+1)
			if err != nil {
				return "", err
			}
			elems = append(elems, kl+": "+vl)
		}
		sort.Strings(elems)
		return te + "{" + strings.Join(elems, ", ") + "}", nil
	case k == reflect.Ptr && v.Elem().Kind() == reflect.Struct:
		lit, err := e.literal(v.Elem(), depth+1)
		return "&" + lit, err
	case k == reflect.Struct:
		var fields []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				return "", fmt.Errorf("%s has unexported fields", t)
			}
			if v.Field(i).IsZero() {
				continue
			}
			fl, err := e.literal(v.Field(i), depth+1)
			if err != nil {
				return "", err
			}
			fields = append(fields, f.Name+": "+fl)
		}
		return te + "{" + strings.Join(fields, ", ") + "}", nil
	}
	return "", fmt.Errorf("a %s", t)
}

func floatLit(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "math.Inf(1)"
	case math.IsInf(f, -1):
		return "math.Inf(-1)"
	case math.IsNaN(f):
		return "math.NaN()"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Seed gives s the declarations of another session (functions, types,
// constants), as iex --remsh sees the modules of the node attached to; the
// variables of s stay its own, as bindings do in iex. A declaration that
// does not compile without from's variables is left out.
func (s *Session) Seed(from *Session) {
	entries, _ := from.tab.all()
	if len(entries) == 0 {
		return
	}
	ctx := context.Background()
	if _, err := s.Eval(ctx, source(entries)); err == nil {
		return
	}
	for _, e := range entries {
		_, _ = s.Eval(ctx, e.Src)
	}
}
