package repl

import (
	"fmt"

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
	r.Note = func(msg string) { fmt.Fprintln(rt.async, "[note] "+msg) }
	return r
}
