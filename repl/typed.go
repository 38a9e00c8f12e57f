package repl

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/repl/eval"
)

// Typed values between shells: the session's struct types cross by name
// (eval.TypeRegistry is the codec's dist.StructTypes), and a value whose
// type this node lacks arrives as a map with a note, printed once.

var _ dist.StructTypes = (*evalTypes)(nil)

// evalTypes is the session's registry as the codec sees it.
type evalTypes = eval.TypeRegistry

// structTypes returns the session's type registry, its notes printed above
// the prompt.
func (rt *Runtime) structTypes() dist.StructTypes {
	r := rt.session.Types()
	r.Note = func(msg string) { fmt.Fprintln(&rt.reports, "[note] "+msg) } // stderr in scripts, above the prompt at a terminal
	return r
}

// As is as[T](v): v converted to T, for arithmetic on what rpc, await and
// receive return (any): n := as[int](rpc(...)); n + 1. It converts as a
// call's arguments are (eval.ConvertArg): numbers between numeric types
// when the value fits (an int64 or a float64 holding 3.0 to an int), a
// []any to a []int, a map of fields to a struct of the shell's. An error
// value (a failed rpc) fails the snippet with that error; so does a value
// that does not convert, naming both types. ptr is a *T, made by the
// prelude's as, which is how the host learns T.
func (x *Proc) As(v any, ptr any) any {
	pt := reflect.TypeOf(ptr)
	if pt == nil || pt.Kind() != reflect.Pointer {
		fail("as: internal: want a pointer to the target, got %T", ptr)
	}
	t := pt.Elem()
	if err, ok := v.(error); ok && !reflect.TypeOf(v).AssignableTo(t) {
		fail("%w", err)
	}
	cv, err := eval.ConvertArg(v, t)
	if err != nil {
		fail("as[%s]: %v", typeName(t), err)
	}
	return cv.Interface()
}

// typeName is t as the shell would write it: a session struct type by its
// name.
func typeName(t reflect.Type) string {
	return t.String()
}

// preloadTypes compiles a spawned literal that declares types before its
// process starts, on the connection's reader, which Compile runs on: the
// messages its sender sends it next are decoded after this node knows the
// types, so that a Vec sent right after spawn(node2, func() {...}) arrives
// as a Vec, not as a map. The compiled interpreter is pooled, and the
// process takes it up (Session.Compile is keyed by the source). A literal
// without types keeps compiling in its process, off the reader.
func (rt *Runtime) preloadTypes(source string) {
	if !strings.Contains(source, "type ") {
		return
	}
	ctx, cancel := context.WithTimeout(rt.ctx, preloadTimeout)
	defer cancel()
	if f, err := rt.session.Compile(ctx, source, io.Discard); err == nil {
		f.Release()
	} // else the process compiles it again and fails with the error
}

// preloadTimeout bounds the time a spawn that declares types holds its
// connection's reader.
const preloadTimeout = 2 * time.Second
