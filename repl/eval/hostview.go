package eval

import (
	"reflect"
	"strings"
)

// encoding/json and reflect, given a value of a struct type declared in
// the shell, see the unnamed struct yaegi builds for it, where an
// unexported field is an exported one named with an X in front: json
// wrote {"Name":"ann","Xsecret":"pw"} and reflect.TypeOf(p).Name() was
// "". The shell rewrites json.Marshal's (MarshalIndent's, an Encoder's
// Encode's) argument into __gonode.JSONValue(x) and reflect.TypeOf(x)
// into __gonode.TypeOf(x) (lower_fmt.go).

// jsonValue returns x with the unexported fields of the shell's struct
// types tagged json:"-", so that encoding/json leaves them out as it does
// in a compiled program. The value is the same memory seen through a type
// that differs only in tags, which have no part in the layout.
func (in *Interp) jsonValue(x any) any {
	tt := in.types()
	if tt == nil || x == nil || len(tt.hidden) == 0 {
		return x
	}
	t := reflect.TypeOf(x)
	ct := tt.tagged(t, map[reflect.Type]bool{})
	if ct == t {
		return x
	}
	p := reflect.New(t)
	p.Elem().Set(reflect.ValueOf(x))
	return reflect.NewAt(ct, p.UnsafePointer()).Elem().Interface()
}

// tagged returns t with the hidden fields of its struct types (at any
// depth) tagged json:"-", or t when it holds none. A type that contains
// itself is left as it is: reflect cannot build one.
func (tt *typeTable) tagged(t reflect.Type, busy map[reflect.Type]bool) reflect.Type {
	if busy[t] {
		return t
	}
	busy[t] = true
	defer delete(busy, t)
	switch t.Kind() {
	case reflect.Ptr:
		if e := tt.tagged(t.Elem(), busy); e != t.Elem() {
			return reflect.PointerTo(e)
		}
	case reflect.Slice:
		if e := tt.tagged(t.Elem(), busy); e != t.Elem() {
			return reflect.SliceOf(e)
		}
	case reflect.Array:
		if e := tt.tagged(t.Elem(), busy); e != t.Elem() {
			return reflect.ArrayOf(t.Len(), e)
		}
	case reflect.Map:
		if e := tt.tagged(t.Elem(), busy); e != t.Elem() {
			return reflect.MapOf(t.Key(), e)
		}
	case reflect.Struct:
		if t.Name() != "" {
			return t
		}
		hidden := tt.hidden[t]
		fs := make([]reflect.StructField, t.NumField())
		changed := false
		for i := range fs {
			f := t.Field(i)
			if hidden[f.Name] && !f.Anonymous {
				f.Tag = `json:"-"`
				changed = true
			} else if ft := tt.tagged(f.Type, busy); ft != f.Type {
				f.Type, changed = ft, true
			}
			fs[i] = f
		}
		if changed {
			return reflect.StructOf(fs)
		}
	}
	return t
}

// typeOf is reflect.TypeOf, with the name of a shell struct type (or a
// pointer to one) given back; a type the shell cannot name for sure (a
// type over a basic type, two struct types with the same fields) fails
// when its name is asked.
func (in *Interp) typeOf(x any) reflect.Type {
	t := reflect.TypeOf(x)
	if t == nil {
		return nil
	}
	return in.types().named(t)
}

// named returns t as a namedType when it is, or points to, a shell type.
func (tt *typeTable) named(t reflect.Type) reflect.Type {
	if tt == nil {
		return t
	}
	if t.Kind() == reflect.Ptr {
		if e := tt.named(t.Elem()); e != t.Elem() {
			return namedType{Type: t, elem: e, ptr: true}
		}
		return t
	}
	if ns := tt.structs[t]; len(ns) == 1 {
		return namedType{Type: t, name: ns[0]}
	} else if len(ns) > 1 {
		return namedType{Type: t, unsure: strings.Join(ns, " and ") + ", declared in the shell, have the same fields, and the interpreter hands reflect a value of either as the unnamed " + t.String()}
	}
	if ns := tt.others[t]; len(ns) > 0 {
		return namedType{Type: t, unsure: "reflect cannot tell a " + t.String() + " from a value of " + strings.Join(ns, " or ") + ", declared in the shell over " + t.String() + ": the interpreter hands reflect both as a plain " + t.String()}
	}
	return t
}

// namedType is the reflect type of a shell type with its name: Name,
// String, PkgPath and Elem answer as for the compiled program's type, the
// rest is the unnamed type's. Functions of reflect that need reflect's own
// type (reflect.New) do not take it.
type namedType struct {
	reflect.Type
	name   string       // the shell type's name
	unsure string       // why the name is not known, when it is not
	elem   reflect.Type // for a pointer: the named element
	ptr    bool
}

func (t namedType) check() {
	if t.unsure != "" {
		Fail("%s; print the name yourself, for example with a type switch", t.unsure)
	}
}

func (t namedType) Name() string {
	t.check()
	if t.ptr {
		return ""
	}
	return t.name
}

func (t namedType) String() string {
	if t.ptr {
		return "*" + t.elem.String()
	}
	t.check()
	return "main." + t.name
}

func (t namedType) PkgPath() string {
	t.check()
	if t.ptr {
		return ""
	}
	return "main"
}

func (t namedType) Elem() reflect.Type {
	if t.ptr {
		return t.elem
	}
	return t.Type.Elem()
}
