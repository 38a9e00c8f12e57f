package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime/debug"
	"strconv"
	"sync/atomic"

	"github.com/gonode/gonode/repl/format"
)

// ErrBadArgument is wrapped by the errors of calls whose arguments do not
// fit the function's parameters.
var ErrBadArgument = errors.New("bad argument")

// Func is a function resolved in an interpreter, or a host function,
// callable with arguments converted to its parameter types. It is safe for
// concurrent use; calls into one interpreter are serialized.
type Func struct {
	name string
	typ  reflect.Type
	fn   reflect.Value
	in   *Interp // nil for a host function
	bind string  // the variable holding the function in in

	// A Func from a session's pool (Resolve, Load, Compile) holds its
	// interpreter for one use: Release gives it back.
	pooled   *pooled
	pool     *interpPool
	released atomic.Bool
}

// Release ends the use of a function resolved or loaded by a Session: its
// interpreter goes back to the session's pool, unless a call into it
// panicked or was cancelled. Neither the Func nor values it returned that
// hold interpreted code may be used afterwards. Release is idempotent, and
// a no-op for other Funcs. A Func never released is not reused, and if it
// took a cancellable call, its interpreter's call server (a goroutine)
// lives as long as the process: release every Func from a Session.
func (f *Func) Release() {
	if f.pooled != nil && !f.released.Swap(true) {
		f.pool.put(f.pooled)
	}
}

// Name is the expression the function was resolved from.
func (f *Func) Name() string { return f.name }

// Type is the function's type.
func (f *Func) Type() reflect.Type { return f.typ }

// Interp is the interpreter the function runs in, nil for a host function.
func (f *Func) Interp() *Interp { return f.in }

// Func evaluates expr, which must yield a function (a declared function's
// name, a qualified host or standard library function, a func literal),
// and binds it so that Call can run it.
func (in *Interp) Func(ctx context.Context, expr string) (*Func, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.bindFunc(ctx, expr)
}

func (in *Interp) bindFunc(ctx context.Context, expr string) (*Func, error) {
	bind := "__gonode_fn" + strconv.Itoa(in.nfuncs)
	in.nfuncs++
	if _, err := in.run(ctx, bind+" := "+expr, false); err != nil {
		return nil, err
	}
	in.takeResult()
	if err := in.evalRaw(ctx, rtName+".Result("+bind+")"); err != nil {
		return nil, err
	}
	vals := in.takeResult()
	if len(vals) != 1 || reflect.ValueOf(vals[0]).Kind() != reflect.Func {
		return nil, fmt.Errorf("%s is not a function", expr)
	}
	v := reflect.ValueOf(vals[0])
	return &Func{name: expr, typ: v.Type(), fn: v, in: in, bind: bind}, nil
}

// Call runs the function with args converted to its parameter types (see
// ConvertArg) and returns its results; a panic comes back as a *PanicError
// (a refused ship as its *ShipError). A call into an interpreter goes
// through reflect; with a context that can be cancelled it runs inside a
// yaegi execution (callCancellable, pool_call.go), so that cancelling ctx
// stops it, busy loops included, and abandons the interpreter. A host
// function cannot be stopped.
func (f *Func) Call(ctx context.Context, args ...any) ([]any, error) {
	vals, err := convertArgs(f.name, f.typ, args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.in == nil {
		return callHost(f.fn, vals)
	}
	in := f.in
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.abandoned {
		return nil, ErrAbandoned
	}
	// exit(reason) in a spawned process ends its goroutine (runtime.Goexit)
	// in the middle of the call: like a panic, that retires the interpreter.
	returned := false
	defer func() {
		if !returned {
			in.abandoned = true
		}
	}()
	var out []any
	if ctx.Done() == nil {
		out, err = callHost(f.fn, vals)
	} else {
		out, err = in.callCancellable(ctx, f.fn, vals)
	}
	returned = true
	var pe *PanicError
	if errors.As(err, &pe) {
		if rv, ok := pe.Value.(reflect.Value); ok && rv.IsValid() && rv.CanInterface() {
			pe.Value = rv.Interface()
		}
		if se, ok := pe.Value.(*ShipError); ok {
			err = se
		}
		if msg, _, ok := runtimeText(pe.Value); ok { // reflect's words for a nil dereference or an index (runtimeerr.go)
			pe.Value = &RuntimeError{msg}
		}
		if f.pooled != nil {
			f.pooled.broken = true // a panic may leave deferred calls or locks half done
		}
	}
	return out, err
}

func callHost(fn reflect.Value, args []reflect.Value) (out []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	for _, r := range fn.Call(args) {
		out = append(out, r.Interface())
	}
	return out, nil
}

func convertArgs(name string, t reflect.Type, args []any) ([]reflect.Value, error) {
	n := t.NumIn()
	if (!t.IsVariadic() && len(args) != n) || (t.IsVariadic() && len(args) < n-1) {
		return nil, fmt.Errorf("%w: %s takes %d arguments, got %d", ErrBadArgument, name, n, len(args))
	}
	out := make([]reflect.Value, len(args))
	for i, a := range args {
		var pt reflect.Type
		if t.IsVariadic() && i >= n-1 {
			pt = t.In(n - 1).Elem()
		} else {
			pt = t.In(i)
		}
		v, err := ConvertArg(a, pt)
		if err != nil {
			return nil, fmt.Errorf("%w %d to %s: %v", ErrBadArgument, i+1, name, err)
		}
		out[i] = v
	}
	return out, nil
}

// ConvertArg converts a value that arrived from elsewhere (another node's
// codec, a shell) to type t: assignable values as they are; numbers between
// numeric types when the value fits exactly (an int64 to an int, a float64
// holding 3.0 to an int); string and []byte both ways; values of the same
// basic kind between named types (a string to an Atom); slices and maps
// element by element. Anything else is an error naming both types.
func ConvertArg(a any, t reflect.Type) (reflect.Value, error) {
	if a == nil {
		switch t.Kind() {
		case reflect.Interface, reflect.Ptr, reflect.Slice, reflect.Map, reflect.Func, reflect.Chan:
			return reflect.Zero(t), nil
		}
		return reflect.Value{}, fmt.Errorf("got nil, want %s", t)
	}
	v := reflect.ValueOf(a)
	if v.Type().AssignableTo(t) {
		r := reflect.New(t).Elem()
		r.Set(v)
		return r, nil
	}
	bad := func() error { return fmt.Errorf("got %s %s, want %s", v.Type(), format.Value(a), t) } // made only on failure: a call converts every argument
	vk, tk := v.Kind(), t.Kind()
	switch {
	case numeric(vk) && numeric(tk):
		return convertNumber(v, t, bad)
	case vk == reflect.String && tk == reflect.Slice && t.Elem().Kind() == reflect.Uint8,
		tk == reflect.String && vk == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8,
		vk == tk && (basicKind(vk)) && v.Type().ConvertibleTo(t):
		return v.Convert(t), nil
	case tk == reflect.Slice && (vk == reflect.Slice || vk == reflect.Array):
		r := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			e, err := ConvertArg(v.Index(i).Interface(), t.Elem())
			if err != nil {
				return reflect.Value{}, fmt.Errorf("element %d: %w", i, err)
			}
			r.Index(i).Set(e)
		}
		return r, nil
	case tk == reflect.Struct && vk == reflect.Map && v.Type().Key().Kind() == reflect.String:
		return structFromMap(v, t, bad) // a struct that arrived as its fields (types.go)
	case tk == reflect.Map && vk == reflect.Map:
		r := reflect.MakeMapWithSize(t, v.Len())
		it := v.MapRange()
		for it.Next() {
			k, err := ConvertArg(it.Key().Interface(), t.Key())
			if err != nil {
				return reflect.Value{}, fmt.Errorf("map key: %w", err)
			}
			e, err := ConvertArg(it.Value().Interface(), t.Elem())
			if err != nil {
				return reflect.Value{}, fmt.Errorf("map value: %w", err)
			}
			r.SetMapIndex(k, e)
		}
		return r, nil
	}
	return reflect.Value{}, bad()
}

func numeric(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Float64 }

func convertNumber(v reflect.Value, t reflect.Type, bad func() error) (reflect.Value, error) {
	r := reflect.New(t).Elem()
	var f float64
	switch {
	case v.CanInt():
		f = float64(v.Int())
	case v.CanUint():
		f = float64(v.Uint())
	default:
		f = v.Float()
	}
	switch {
	case r.CanInt():
		var i int64
		switch {
		case v.CanInt():
			i = v.Int()
		case v.CanUint() && v.Uint() <= math.MaxInt64:
			i = int64(v.Uint())
		case !v.CanUint() && f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64:
			i = int64(f)
		default:
			return reflect.Value{}, bad()
		}
		if r.OverflowInt(i) {
			return reflect.Value{}, bad()
		}
		r.SetInt(i)
	case r.CanUint():
		var u uint64
		switch {
		case v.CanUint():
			u = v.Uint()
		case v.CanInt() && v.Int() >= 0:
			u = uint64(v.Int())
		case !v.CanInt() && f >= 0 && f == math.Trunc(f) && f < math.MaxUint64:
			u = uint64(f)
		default:
			return reflect.Value{}, bad()
		}
		if r.OverflowUint(u) {
			return reflect.Value{}, bad()
		}
		r.SetUint(u)
	default:
		if r.OverflowFloat(f) {
			return reflect.Value{}, bad()
		}
		r.SetFloat(f)
	}
	return r, nil
}

var basicTypes = map[string]reflect.Type{}

func init() {
	for _, v := range []any{false, int(0), int8(0), int16(0), int32(0), int64(0), uint(0), uint8(0),
		uint16(0), uint32(0), uint64(0), uintptr(0), float32(0), float64(0), complex64(0), complex128(0), ""} {
		basicTypes[reflect.TypeOf(v).String()] = reflect.TypeOf(v)
	}
}

var anyType = reflect.TypeOf((*any)(nil)).Elem()

// captureValue returns an addressable value for a capture, converted back
// to its basic type when it arrived as another one.
func captureValue(c Capture) (reflect.Value, error) {
	if c.Value == nil {
		return reflect.New(anyType).Elem(), nil
	}
	v := reflect.ValueOf(c.Value)
	if bt, ok := basicTypes[c.Type]; ok && bt != v.Type() {
		cv, err := ConvertArg(c.Value, bt)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("captured %s: %w", c.Name, err)
		}
		v = cv
	}
	slot := reflect.New(v.Type()).Elem()
	slot.Set(v)
	return slot, nil
}
