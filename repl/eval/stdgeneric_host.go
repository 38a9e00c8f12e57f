package eval

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"sort"
)

// The host side of stdgeneric.go: Go 1.21's clear and the functions of
// slices, maps and cmp that return no value of a type parameter, done
// through reflect on the operands as the interpreter hands them over.

// clearValue is clear(x) of a map or slice.
func clearValue(x any) {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Map:
		v.Clear()
	case reflect.Slice:
		v.Clear()
	case reflect.Invalid:
	default:
		Fail("invalid argument: clear(%s) needs a map or a slice", v.Type())
	}
}

// sliceOf returns s as a slice, failing as the compiled call would not
// compile otherwise.
func sliceOf(s any, fn string) reflect.Value {
	v := reflect.ValueOf(s)
	if v.Kind() != reflect.Slice {
		if s == nil {
			return reflect.Value{}
		}
		Fail("%s: %T is not a slice", fn, s)
	}
	return v
}

// less compares two values of an ordered kind, NaNs first, as cmp.Compare.
func less(a, b reflect.Value) int {
	switch {
	case a.CanInt():
		return cmp.Compare(a.Int(), b.Int())
	case a.CanUint():
		return cmp.Compare(a.Uint(), b.Uint())
	case a.CanFloat():
		return cmp.Compare(a.Float(), b.Float())
	case a.Kind() == reflect.String:
		return cmp.Compare(a.String(), b.String())
	}
	Fail("%s is not an ordered type", a.Type())
	return 0
}

// cmpCompare is cmp.Compare; an untyped constant operand the interpreter
// typed otherwise is converted to the other's type (cmp.Compare(x, 1)).
func cmpCompare(a, b any) int {
	av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
	if av.Type() != bv.Type() && bv.Type().ConvertibleTo(av.Type()) && (av.Kind() == reflect.String) == (bv.Kind() == reflect.String) {
		bv = bv.Convert(av.Type())
	}
	return less(av, bv)
}

func slicesSort(s any) {
	v := sliceOf(s, "slices.Sort")
	if !v.IsValid() {
		return
	}
	sort.SliceStable(s, func(i, j int) bool { return less(v.Index(i), v.Index(j)) < 0 })
}

func slicesIsSorted(s any) bool {
	v := sliceOf(s, "slices.IsSorted")
	for i := 1; v.IsValid() && i < v.Len(); i++ {
		if less(v.Index(i), v.Index(i-1)) < 0 {
			return false
		}
	}
	return true
}

func callInt(f reflect.Value, args ...reflect.Value) int64 { return f.Call(args)[0].Int() }

func slicesSortFunc(s, f any, stable bool) {
	v, fv := sliceOf(s, "slices.SortFunc"), reflect.ValueOf(f)
	if !v.IsValid() {
		return
	}
	lessF := func(i, j int) bool { return callInt(fv, v.Index(i), v.Index(j)) < 0 }
	if stable {
		sort.SliceStable(s, lessF)
	} else {
		sort.Slice(s, lessF)
	}
}

// elemValue converts x, an element to look for, to the slice's element
// type when it is an untyped constant the interpreter typed otherwise
// (slices.Contains(floats, 1)).
func elemValue(x any, t reflect.Type) reflect.Value {
	v := reflect.ValueOf(x)
	if !v.IsValid() {
		return reflect.Zero(t)
	}
	if v.Type() != t && v.Type().ConvertibleTo(t) && v.Kind() != reflect.String && t.Kind() != reflect.String {
		return v.Convert(t)
	}
	return v
}

func slicesIndex(s, x any) int {
	v := sliceOf(s, "slices.Index")
	if !v.IsValid() {
		return -1
	}
	xv := elemValue(x, v.Type().Elem())
	for i := 0; i < v.Len(); i++ {
		if e := v.Index(i); e.Type() == xv.Type() && e.Equal(xv) {
			return i
		}
	}
	return -1
}

func slicesIndexFunc(s, f any) int {
	v, fv := sliceOf(s, "slices.IndexFunc"), reflect.ValueOf(f)
	for i := 0; v.IsValid() && i < v.Len(); i++ {
		if fv.Call([]reflect.Value{v.Index(i)})[0].Bool() {
			return i
		}
	}
	return -1
}

func slicesReverse(s any) {
	v := sliceOf(s, "slices.Reverse")
	if !v.IsValid() {
		return
	}
	swap := reflect.Swapper(s)
	for i, j := 0, v.Len()-1; i < j; i, j = i+1, j-1 {
		swap(i, j)
	}
}

func slicesEqual(a, b any) bool {
	av, bv := sliceOf(a, "slices.Equal"), sliceOf(b, "slices.Equal")
	if !av.IsValid() || !bv.IsValid() {
		return (!av.IsValid() || av.Len() == 0) && (!bv.IsValid() || bv.Len() == 0)
	}
	if av.Len() != bv.Len() {
		return false
	}
	for i := 0; i < av.Len(); i++ {
		if !av.Index(i).Equal(bv.Index(i)) {
			return false
		}
	}
	return true
}

// extremeIndex is the index of the largest (sign 1) or smallest (-1)
// element, the first of equals; a NaN wins, as in slices.Max and Min.
func extremeIndex(s any, fn string, sign int) int {
	v := sliceOf(s, fn)
	if !v.IsValid() || v.Len() == 0 {
		panic(fn + ": empty list")
	}
	best := 0
	for i := 1; i < v.Len(); i++ {
		e := v.Index(i)
		if e.CanFloat() && math.IsNaN(e.Float()) {
			return i
		}
		if less(e, v.Index(best))*sign > 0 {
			best = i
		}
	}
	return best
}

func mapsCopy(dst, src any) {
	d, s := reflect.ValueOf(dst), reflect.ValueOf(src)
	if s.Kind() != reflect.Map {
		return
	}
	if d.Kind() != reflect.Map || d.IsNil() && s.Len() > 0 {
		panic("assignment to entry in nil map")
	}
	for it := s.MapRange(); it.Next(); {
		d.SetMapIndex(it.Key(), it.Value())
	}
}

func mapsDeleteFunc(m, f any) {
	mv, fv := reflect.ValueOf(m), reflect.ValueOf(f)
	if mv.Kind() != reflect.Map {
		return
	}
	for _, k := range mv.MapKeys() {
		if fv.Call([]reflect.Value{k, mv.MapIndex(k)})[0].Bool() {
			mv.SetMapIndex(k, reflect.Value{})
		}
	}
}

func mapsEqual(a, b any) bool {
	av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
	if av.Len() != bv.Len() {
		return false
	}
	for it := av.MapRange(); it.Next(); {
		w := bv.MapIndex(it.Key())
		if !w.IsValid() || !w.Equal(it.Value()) {
			return false
		}
	}
	return true
}

// minMax is min (isMin) or max of values typed alone at the prompt, for
// printing: an untyped constant among them, which the interpreter typed
// int, takes the type of a float argument.
func minMax(isMin bool, args ...any) any {
	var best reflect.Value
	var float reflect.Type
	for _, a := range args {
		if v := reflect.ValueOf(a); v.CanFloat() && float == nil {
			float = v.Type()
		}
	}
	for _, a := range args {
		v := reflect.ValueOf(a)
		if float != nil && v.Type() != float && v.CanConvert(float) {
			v = v.Convert(float)
		}
		if v.CanFloat() && math.IsNaN(v.Float()) {
			return v.Interface()
		}
		if !best.IsValid() || (less(v, best) < 0) == isMin && less(v, best) != 0 {
			best = v
		}
	}
	return best.Interface()
}

// into makes a function computing a value from a first argument into one
// that stores it in the variable p points to, which holds that argument:
// the variable has the argument's type, which the host cannot name.
func into(f func(x any, args ...any) any) func(p any, args ...any) {
	return func(p any, args ...any) {
		v := reflect.ValueOf(p).Elem()
		if r := reflect.ValueOf(f(v.Interface(), args...)); r.IsValid() {
			v.Set(r)
		} else {
			v.Set(reflect.Zero(v.Type()))
		}
	}
}

// mapsClone is maps.Clone: a new map with the same entries, nil for nil.
func mapsClone(m any, _ ...any) any {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Map || v.IsNil() {
		return m
	}
	c := reflect.MakeMapWithSize(v.Type(), v.Len())
	for it := v.MapRange(); it.Next(); {
		c.SetMapIndex(it.Key(), it.Value())
	}
	return c.Interface()
}

// slicesInsert is slices.Insert(s, i, vs...).
func slicesInsert(s any, args ...any) any {
	v := sliceOf(s, "slices.Insert")
	if len(args) == 0 {
		Fail("slices.Insert needs an index")
	}
	i := int(reflect.ValueOf(args[0]).Int())
	if !v.IsValid() {
		v = reflect.MakeSlice(reflect.TypeOf(s), 0, 0)
	}
	if i < 0 || i > v.Len() {
		panic(fmt.Sprintf("runtime error: slice bounds out of range [%d:%d]", i, v.Len()))
	}
	out := reflect.MakeSlice(v.Type(), 0, v.Len()+len(args)-1)
	out = reflect.AppendSlice(out, v.Slice(0, i))
	for _, a := range args[1:] {
		out = reflect.Append(out, elemValue(a, v.Type().Elem()))
	}
	return reflect.AppendSlice(out, v.Slice(i, v.Len())).Interface()
}

// slicesDelete is slices.Delete(s, i, j): s without s[i:j], in place,
// the freed elements zeroed (Go 1.22).
func slicesDelete(s any, args ...any) any {
	v := sliceOf(s, "slices.Delete")
	if len(args) != 2 || !v.IsValid() {
		return s
	}
	i, j := int(reflect.ValueOf(args[0]).Int()), int(reflect.ValueOf(args[1]).Int())
	if i < 0 || j > v.Len() || i > j {
		panic(fmt.Sprintf("runtime error: slice bounds out of range [%d:%d]", i, j))
	}
	n := reflect.Copy(v.Slice(i, v.Len()), v.Slice(j, v.Len()))
	v.Slice(i+n, v.Len()).Clear()
	return v.Slice(0, i+n).Interface()
}

// slicesCompact is slices.Compact(s): runs of equal elements made one,
// in place, the freed elements zeroed.
func slicesCompact(s any, _ ...any) any {
	v := sliceOf(s, "slices.Compact")
	if !v.IsValid() || v.Len() < 2 {
		return s
	}
	k := 1
	for i := 1; i < v.Len(); i++ {
		if !v.Index(i).Equal(v.Index(k - 1)) {
			v.Index(k).Set(v.Index(i))
			k++
		}
	}
	v.Slice(k, v.Len()).Clear()
	return v.Slice(0, k).Interface()
}
