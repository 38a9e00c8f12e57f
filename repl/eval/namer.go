package eval

import (
	"path"
	"reflect"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// syntax.ResultCount knows how many values a final call yields only from
// what its names mean here; the snippet's own declarations and the
// interpreter's table and exports answer it (syntax.Namer).

// snippetNamer answers what names mean for one snippet: names declared by
// its earlier statements first, then the interpreter's.
type snippetNamer struct {
	in    *Interp
	local map[string]syntax.NameKind
}

func (nm *snippetNamer) unbound(name string) bool {
	_, ok := nm.local[name]
	return !ok && nm.in.tab.lookup(name) == nil && !nm.in.tab.isVar(name)
}

func (nm *snippetNamer) Ident(name string) (syntax.NameKind, int) {
	if k, ok := nm.local[name]; ok {
		return k, 0
	}
	for _, t := range []*declTable{nm.in.tab, nm.in.env.prelude} {
		if t.isVar(name) {
			return syntax.NameUnknown, 0
		}
		if e := t.lookup(name); e != nil {
			return entryKind(e)
		}
	}
	for _, k := range nm.in.env.dots {
		if v, ok := nm.in.env.exportsOf(k)[name]; ok {
			return valueKind(v)
		}
	}
	return syntax.NameUnknown, 0
}

func (nm *snippetNamer) Member(pkg, name string) (syntax.NameKind, int) {
	if _, ok := nm.local[pkg]; ok || nm.in.tab.isVar(pkg) {
		return syntax.NameUnknown, 0
	}
	key := nm.in.env.pkgs[pkg]
	if e := nm.in.tab.lookup(pkg); e != nil {
		if e.Kind != syntax.DeclImport {
			return syntax.NameUnknown, 0
		}
		key = nm.in.env.keyOf(strings.Fields(e.Key)[2])
	}
	if key == "fmt/fmt" && quietPrints[name] {
		return syntax.NameFunc, 0
	}
	if n, ok := genericResults[path.Base(key)+"."+name]; ok && key != "" { // stdgeneric.go
		return syntax.NameFunc, n
	}
	if v, ok := nm.in.env.exportsOf(key)[name]; ok && key != "" {
		return valueKind(v)
	}
	return syntax.NameUnknown, 0
}

// quietPrints are the fmt functions whose results (bytes written, error) the
// shell does not print: like iex's IO.puts, printing is their point.
var quietPrints = map[string]bool{"Print": true, "Printf": true, "Println": true}

func entryKind(e *declEntry) (syntax.NameKind, int) {
	switch e.Kind {
	case syntax.DeclType:
		return syntax.NameType, 0
	case syntax.DeclFunc:
		return syntax.NameFunc, e.Results
	}
	return syntax.NameUnknown, 0
}

// valueKind classifies a yaegi export: a nil pointer stands for a type.
func valueKind(v reflect.Value) (syntax.NameKind, int) {
	switch {
	case v.Kind() == reflect.Ptr && v.IsNil():
		return syntax.NameType, 0
	case v.Kind() == reflect.Func:
		return syntax.NameFunc, v.Type().NumOut()
	}
	return syntax.NameUnknown, 0
}
