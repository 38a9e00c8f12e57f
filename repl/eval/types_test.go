package eval

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func evalOK(t *testing.T, s *Session, src string) {
	t.Helper()
	if _, err := s.Eval(context.Background(), src); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
}

func call1(t *testing.T, s *Session, name string, args ...any) any {
	t.Helper()
	res, err := s.Call(context.Background(), name, args...)
	if err != nil || len(res) != 1 {
		t.Fatalf("%s: %v %v", name, res, err)
	}
	return res[0]
}

// The registry names the session's struct types and rebuilds their values
// with the interpreter's own reflect type, so that a type switch in
// interpreted code matches them; a type declared anew gets its new layout.
func TestTypeRegistry(t *testing.T) {
	s := newTestSession(t, newHost())
	r := s.Types()
	evalOK(t, s, "type Point struct{ X, Y int }")
	evalOK(t, s, `func Kind(v any) string { switch p := v.(type) { case Point: return "Point " + fmt.Sprint(p.X+p.Y); case map[string]any: return "map" }; return "other" }`)
	evalOK(t, s, "func Origin() Point { return Point{} }")

	pt := reflect.TypeOf(call1(t, s, "Origin"))
	name, layout, ok := r.StructName(pt)
	if !ok || name != "Point" || layout != Layout(pt) {
		t.Fatalf("StructName(%v) = %q %x %v", pt, name, layout, ok)
	}
	v, ok := r.MakeStruct("Point", layout, map[string]any{"X": 2, "Y": int64(3)})
	if !ok {
		t.Fatal("MakeStruct refused a Point")
	}
	if got := call1(t, s, "Kind", v); got != "Point 5" {
		t.Errorf("Kind(rebuilt Point) = %v, want Point 5", got)
	}
	for what, fields := range map[string]map[string]any{
		"unknown field": {"Z": 1},
		"wrong type":    {"X": "one"},
	} {
		if v, ok := r.MakeStruct("Point", layout, fields); ok {
			t.Errorf("%s: built %#v", what, v)
		}
	}
	if _, ok := r.MakeStruct("Point", layout+1, nil); ok {
		t.Error("a Point of another layout was built")
	}
	if _, ok := r.MakeStruct("Nope", layout, nil); ok {
		t.Error("a type the session lacks was built")
	}

	evalOK(t, s, "type Point struct{ X, Y, Z int }")
	pt3 := reflect.TypeOf(call1(t, s, "Origin"))
	if name, layout3, ok := r.StructName(pt3); !ok || name != "Point" || layout3 == layout {
		t.Fatalf("redeclared Point: StructName = %q %x %v", name, layout3, ok)
	}
	if _, ok := r.MakeStruct("Point", Layout(pt3), map[string]any{"Z": 1}); !ok {
		t.Error("the redeclared Point was not built")
	}
}

// A type declared only in code loaded into a worker (a shipped literal) is
// known too.
func TestTypeRegistryLearnsShippedTypes(t *testing.T) {
	s := newTestSession(t, newHost())
	f, err := s.Load(context.Background(), Bundle{Decls: "type Local struct{ N int }", Func: "func() any { return Local{N: 4} }"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Call(context.Background())
	f.Release()
	if err != nil || len(res) != 1 {
		t.Fatalf("%v %v", res, err)
	}
	if name, _, ok := s.Types().StructName(reflect.TypeOf(res[0])); !ok || name != "Local" {
		t.Errorf("StructName of a shipped type = %q %v", name, ok)
	}
}

// rpc names: "Type.Method" calls the method on the type's zero value, and
// a package-level variable holding a function is called as one.
func TestResolveMethodsAndFuncVars(t *testing.T) {
	s := newTestSession(t, newHost())
	evalOK(t, s, "type Compute struct{}")
	evalOK(t, s, "func (Compute) Square(v int) int { return v * v }")
	evalOK(t, s, "type Counter struct{ n int }")
	evalOK(t, s, "func (c *Counter) Next() int { c.n++; return c.n }")
	evalOK(t, s, "var Double = func(v int) int { return 2 * v }")
	evalOK(t, s, "var NotFunc = 3")
	for _, tt := range []struct {
		name string
		args []any
		want any
	}{
		{"Compute.Square", []any{5}, 25},
		{"Counter.Next", nil, 1},
		{"Double", []any{21}, 42},
	} {
		if !s.HasFunc(tt.name) {
			t.Errorf("HasFunc(%s) = false", tt.name)
		}
		if got := call1(t, s, tt.name, tt.args...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.args, got, tt.want)
		}
	}
	for _, name := range []string{"Compute.Nope", "NotFunc", "Nope.Square"} {
		if s.HasFunc(name) {
			t.Errorf("HasFunc(%s) = true", name)
		}
		if _, err := s.Call(context.Background(), name); err == nil || !strings.Contains(err.Error(), "undefined") {
			t.Errorf("Call(%s): %v, want undefined", name, err)
		}
	}
}

// A type pushed from another node is known once the push is installed.
func TestTypeRegistryLearnsPushedTypes(t *testing.T) {
	s := newTestSession(t, newHost())
	staged, err := s.PrepareCode(context.Background(), "type Pushed struct{ N int }\nfunc MkPushed() Pushed { return Pushed{N: 1} }", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.InstallCode(staged)
	// Asked before anything runs the pushed code in a worker (which would
	// teach the registry too): the type yaegi builds is reflect.StructOf's.
	pt := reflect.StructOf([]reflect.StructField{{Name: "N", Type: reflect.TypeOf(0)}})
	if name, _, ok := s.Types().StructName(pt); !ok || name != "Pushed" {
		t.Errorf("StructName of a pushed type = %q %v", name, ok)
	}
	if v := call1(t, s, "MkPushed"); reflect.TypeOf(v) != pt {
		t.Errorf("a Pushed is a %v, not %v", reflect.TypeOf(v), pt)
	}
}
