package eval

import (
	"context"
	"fmt"
	"hash/fnv"
	"reflect"
	"sort"
	"sync"

	"github.com/gonode/gonode/repl/syntax"
)

// Values of the session's struct types between nodes. yaegi builds a type
// declared in the shell (type Point struct{ X, Y int }) with
// reflect.StructOf: Go code, the codec included, sees an unnamed
// struct { X int; Y int }, and a type switch in interpreted code matches a
// value of that reflect type as Point. So a Point survives the trip when
// the sender names it and the receiver builds the value with its own
// reflect type for Point; TypeRegistry does both (it implements
// dist.StructTypes without importing dist).
//
// "The same declaration" is the same name and the same Go struct type:
// field names, field types and order, compared through a hash of the
// type's Go form (struct { X int; Y int }). reflect.StructOf gives
// identical fields one type, in every interpreter, so the type the
// receiver finds is the one its code switches on.

// maxRegistered bounds the declarations a registry keeps: code shipped by
// peers can declare types, and each one it declares is kept.
const maxRegistered = 4096

// TypeRegistry knows the struct types declared on this node: in the
// session (after each Eval that declares or changes one) and in code
// loaded into its interpreters (shipped literals, rpc'd functions). It is
// safe for concurrent use.
type TypeRegistry struct {
	mu      sync.RWMutex               // guards the maps
	byName  map[string][]reflect.Type  // name -> the struct types declared under it
	byType  map[reflect.Type]typeEntry // struct type -> the name it is sent with
	learned map[string]bool            // name + "\x00" + declaration source, done
	noted   map[string]bool            // notes already given, by text

	// Note, if set, is told once about each kind of value that arrived as
	// a map because this node lacks its type (the shell prints it).
	Note func(msg string)
}

type typeEntry struct {
	name   string
	layout uint64
}

func newTypeRegistry() *TypeRegistry {
	return &TypeRegistry{byName: map[string][]reflect.Type{}, byType: map[reflect.Type]typeEntry{},
		learned: map[string]bool{}, noted: map[string]bool{}}
}

// Layout is the fingerprint of a struct type's declaration.
func Layout(t reflect.Type) uint64 {
	h := fnv.New64a()
	h.Write([]byte(t.String()))
	return h.Sum64()
}

// StructName returns the name values of t are sent with: the session type
// (or the first one declared, for several types with the same fields,
// which yaegi does not tell apart either).
func (r *TypeRegistry) StructName(t reflect.Type) (string, uint64, bool) {
	if t.Name() != "" {
		return "", 0, false
	}
	r.mu.RLock()
	e, ok := r.byType[t]
	r.mu.RUnlock()
	return e.name, e.layout, ok
}

// MakeStruct builds a value of the struct type declared here as name with
// the same layout, from its decoded fields.
func (r *TypeRegistry) MakeStruct(name string, layout uint64, fields map[string]any) (any, bool) {
	r.mu.RLock()
	var t reflect.Type
	types := r.byName[name]
	for _, c := range types {
		if Layout(c) == layout {
			t = c
			break
		}
	}
	r.mu.RUnlock()
	if t == nil {
		if len(types) == 0 {
			r.note(fmt.Sprintf("a value of type %s arrived as a map: %s is not declared on this node (declare the same type here to receive %s values)", name, name, name))
		} else {
			r.note(fmt.Sprintf("a value of type %s arrived as a map: %s is declared differently here (%s)", name, name, types[len(types)-1]))
		}
		return nil, false
	}
	v, err := buildStruct(t, fields)
	if err != nil {
		r.note(fmt.Sprintf("a value of type %s arrived as a map: %v", name, err))
		return nil, false
	}
	return v.Interface(), true
}

func (r *TypeRegistry) note(msg string) {
	if r.Note == nil {
		return
	}
	r.mu.Lock()
	seen := r.noted[msg] || len(r.noted) >= maxRegistered
	r.noted[msg] = true
	r.mu.Unlock()
	if !seen {
		r.Note(msg)
	}
}

// buildStruct makes a value of struct type t from fields keyed by field
// name, converting each (see ConvertArg): a decoded int to an int8 field,
// a []any to a []int field, a map to a struct field.
func buildStruct(t reflect.Type, fields map[string]any) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	for k, x := range fields {
		sf, ok := t.FieldByName(k)
		if !ok || !sf.IsExported() || len(sf.Index) != 1 {
			return reflect.Value{}, fmt.Errorf("it has a field %s that %s has not", k, t)
		}
		xv, err := ConvertArg(x, sf.Type)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("field %s: %v", k, err)
		}
		v.Field(sf.Index[0]).Set(xv)
	}
	return v, nil
}

// add records struct type t under name.
func (r *TypeRegistry) add(name string, t reflect.Type) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.byName[name] {
		if c == t {
			return
		}
	}
	if len(r.byType) >= maxRegistered {
		return
	}
	r.byName[name] = append(r.byName[name], t)
	if _, ok := r.byType[t]; !ok {
		r.byType[t] = typeEntry{name, Layout(t)}
	}
}

// learn records the struct types that in's declarations declare and that
// are not known yet: each costs one evaluation of *new(T) in in, which
// yields the reflect type in's code uses. in.mu must be held.
func (r *TypeRegistry) learn(ctx context.Context, in *Interp) {
	entries, _ := in.tab.all()
	sort.Slice(entries, func(i, j int) bool { return entries[i].seq < entries[j].seq })
	for _, e := range entries {
		if e.Kind != syntax.DeclType {
			continue
		}
		for _, n := range e.Names {
			key := n + "\x00" + e.Src
			r.mu.RLock()
			done := r.learned[key]
			r.mu.RUnlock()
			if done {
				continue
			}
			in.takeResult()
			if in.evalRaw(ctx, rtName+".Result(*new("+n+"))") != nil {
				continue
			}
			vals := in.takeResult()
			if len(vals) == 1 && vals[0] != nil {
				if t := reflect.TypeOf(vals[0]); t.Kind() == reflect.Struct && t.Name() == "" {
					r.add(n, t)
				}
			}
			r.mu.Lock()
			if len(r.learned) < maxRegistered {
				r.learned[key] = true
			}
			r.mu.Unlock()
		}
	}
}

// Types returns the registry of the struct types declared on this node,
// for the codec (dist.Config.Types).
func (s *Session) Types() *TypeRegistry { return s.types }

// learnShellTypes records the types the shell interpreter declares after
// an Eval (s.evalMu held).
func (s *Session) learnShellTypes() {
	in := s.shell
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.abandoned {
		s.types.learn(context.Background(), in)
	}
}

// structFromMap is ConvertArg of a map of fields to struct type t.
func structFromMap(v reflect.Value, t reflect.Type, bad func() error) (reflect.Value, error) {
	fields := make(map[string]any, v.Len())
	it := v.MapRange()
	for it.Next() {
		fields[it.Key().String()] = it.Value().Interface()
	}
	r, err := buildStruct(t, fields)
	if err != nil {
		return reflect.Value{}, fmt.Errorf("%v: %v", bad(), err)
	}
	return r, nil
}
