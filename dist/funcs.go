package dist

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Funcs is a Resolver over compiled Go functions registered by name. Safe
// for concurrent use.
type Funcs struct {
	mu sync.RWMutex
	m  map[string]Callable // guarded by mu
}

// NewFuncs returns an empty function table.
func NewFuncs() *Funcs { return &Funcs{m: make(map[string]Callable)} }

// Register makes fn callable by peers under name. fn is any Go function;
// a leading context.Context parameter receives the call's context, a
// trailing error result is returned as the call's error. Arguments from the
// wire are converted to the parameter types where Go allows (an int64 to
// an int, a []any to a []string, ...).
func (f *Funcs) Register(name string, fn any) error {
	c, err := Adapt(fn)
	if err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	f.mu.Lock()
	f.m[name] = c
	f.mu.Unlock()
	return nil
}

// Resolve implements Resolver.
func (f *Funcs) Resolve(name string) (Callable, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	c, ok := f.m[name]
	return c, ok
}

// Names lists the registered names, sorted.
func (f *Funcs) Names() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]string, 0, len(f.m))
	for k := range f.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
)

// Adapt wraps a Go function value as a Callable (see Funcs.Register).
func Adapt(fn any) (Callable, error) {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("dist: %T is not a function", fn)
	}
	t := v.Type()
	if t.NumOut() > 2 || (t.NumOut() == 2 && t.Out(1) != errorType) {
		return nil, fmt.Errorf("dist: %v: want results (), (T), (error) or (T, error)", t)
	}
	takesCtx := t.NumIn() > 0 && t.In(0) == ctxType
	return func(ctx context.Context, args []any) (any, error) {
		in, err := convertArgs(t, takesCtx, ctx, args)
		if err != nil {
			return nil, err
		}
		out := v.Call(in)
		return splitResults(out)
	}, nil
}

func splitResults(out []reflect.Value) (any, error) {
	switch len(out) {
	case 0:
		return nil, nil
	case 1:
		if out[0].Type() == errorType {
			err, _ := out[0].Interface().(error)
			return nil, err
		}
		return out[0].Interface(), nil
	default:
		err, _ := out[1].Interface().(error)
		return out[0].Interface(), err
	}
}

func convertArgs(t reflect.Type, takesCtx bool, ctx context.Context, args []any) ([]reflect.Value, error) {
	first := 0
	if takesCtx {
		first = 1
	}
	want := t.NumIn() - first
	if t.IsVariadic() {
		if len(args) < want-1 {
			return nil, fmt.Errorf("%w: %v takes at least %d arguments, got %d", ErrBadArgs, t, want-1, len(args))
		}
	} else if len(args) != want {
		return nil, fmt.Errorf("%w: %v takes %d arguments, got %d", ErrBadArgs, t, want, len(args))
	}
	in := make([]reflect.Value, 0, len(args)+first)
	if takesCtx {
		in = append(in, reflect.ValueOf(ctx))
	}
	for i, a := range args {
		var pt reflect.Type
		if t.IsVariadic() && i+first >= t.NumIn()-1 {
			pt = t.In(t.NumIn() - 1).Elem()
		} else {
			pt = t.In(i + first)
		}
		v, err := ConvertValue(a, pt)
		if err != nil {
			return nil, fmt.Errorf("%w: argument %d: %v", ErrBadArgs, i+1, err)
		}
		in = append(in, v)
	}
	return in, nil
}

// ConvertValue converts a value decoded from the wire to type t: numbers
// between numeric types (without loss), []any to slices, map[string]any to
// maps, anything assignable as it is.
func ConvertValue(a any, t reflect.Type) (reflect.Value, error) {
	if a == nil {
		switch t.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Slice, reflect.Map, reflect.Func, reflect.Chan:
			return reflect.Zero(t), nil
		}
		return reflect.Value{}, fmt.Errorf("nil for %v", t)
	}
	v := reflect.ValueOf(a)
	if v.Type().AssignableTo(t) {
		return v, nil
	}
	switch {
	case isNumber(v.Kind()) && isNumber(t.Kind()):
		c := v.Convert(t)
		if !c.Convert(v.Type()).Equal(v) {
			return reflect.Value{}, fmt.Errorf("%v does not fit in %v", a, t)
		}
		return c, nil
	case v.Kind() == reflect.String && t.Kind() == reflect.String:
		return v.Convert(t), nil
	case v.Kind() == reflect.Slice && t.Kind() == reflect.Slice:
		out := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			e, err := ConvertValue(v.Index(i).Interface(), t.Elem())
			if err != nil {
				return reflect.Value{}, fmt.Errorf("element %d: %w", i, err)
			}
			out.Index(i).Set(e)
		}
		return out, nil
	case v.Kind() == reflect.Map && t.Kind() == reflect.Map:
		out := reflect.MakeMapWithSize(t, v.Len())
		it := v.MapRange()
		for it.Next() {
			k, err := ConvertValue(it.Key().Interface(), t.Key())
			if err != nil {
				return reflect.Value{}, err
			}
			e, err := ConvertValue(it.Value().Interface(), t.Elem())
			if err != nil {
				return reflect.Value{}, err
			}
			out.SetMapIndex(k, e)
		}
		return out, nil
	}
	return reflect.Value{}, fmt.Errorf("%T for %v", a, t)
}

func isNumber(k reflect.Kind) bool {
	return (k >= reflect.Int && k <= reflect.Uint64) || k == reflect.Float32 || k == reflect.Float64
}
