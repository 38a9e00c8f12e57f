package eval

import (
	"reflect"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// Standard packages usable without an import. yaegi's ImportUsed makes
// every package it has symbols for usable by its name, but renames both
// packages of a shared name: "rand" (math/rand, crypto/rand, math/rand/v2)
// was usable in no way without an import, so a Tour demo calling
// rand.Intn failed. The shell gives such a name to the package a Go
// programmer means by it when writing no import (preferred), and an
// import of another package of that name still takes it.
//
// How: the other packages are loaded after ImportUsed (importable, not
// usable unimported), and the preferred one also under a one-element
// path ("rand"). ImportUsed then sees two packages named rand and renames
// both the way it does for a clash: math/rand to "math_rand/_.go" and the
// alias to "rand/_.go". That is the key under which an import binds a
// package name, and yaegi looks a package name up under it when the plain
// name is not found: an unimported rand finds the alias in the universe
// scope, an import of crypto/rand binds it in the package scope, which
// is searched first. Had the alias kept the plain name "rand", it would
// hide every import of that name.

// preferred maps a package name that several standard packages share to
// the Exports key of the one the shell gives it.
var preferred = map[string]string{
	"rand":     "math/rand/rand",
	"template": "text/template/template",
	"scanner":  "text/scanner/scanner",
	"pprof":    "runtime/pprof/pprof",
}

// stdlibFirst and stdlibLater split yaegi's standard library: the first are
// loaded before ImportUsed, with the aliases of the preferred packages; the
// later ones (the other packages of a preferred name) after it.
var stdlibFirst, stdlibLater = splitStdlib()

func splitStdlib() (first, later interp.Exports) {
	first, later = interp.Exports{}, interp.Exports{}
	for k, v := range stdlib.Symbols {
		if key, ok := preferred[pkgName(k)]; ok && key != k {
			later[k] = v
			continue
		}
		first[k] = v
	}
	for name, key := range preferred {
		first[name+"/"+name] = stdlib.Symbols[key]
	}
	first["."] = map[string]reflect.Value{"MapTypes": stdlibMapTypes()} // show.go
	return first, later
}
