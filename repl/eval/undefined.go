package eval

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/types"
	"reflect"
	"strconv"
	"strings"

	"github.com/traefik/yaegi/interp"

	"github.com/gonode/gonode/repl/syntax"
)

// yaegi reports an undefined name on the right of a package-level
// declaration ("y := undefinedThing", "var y = f(nosuch)") as a
// "constant definition loop". The shell looks for the name itself then.
const yaegiLoop = "constant definition loop"

// explainUndefined replaces yaegi's misleading error for an undefined name
// by "undefined: name" when the snippet uses a name that nothing declares:
// not the snippet, the session, the prelude, a package, or Go itself.
func (in *Interp) explainUndefined(sn *syntax.Snippet, err error) error {
	if err == nil {
		return nil
	}
	if name, ok := strings.CutPrefix(err.Error(), "undefined: "); ok && missingPackages[name] != "" {
		return fmt.Errorf("%w: %s", err, missingPackages[name])
	}
	if !strings.Contains(err.Error(), yaegiLoop) && !compilerCrash(err) {
		return err
	}
	name := in.undefinedName(sn)
	if name == "" {
		return err
	}
	if why := missingPackages[name]; why != "" {
		name += ": " + why
	}
	if strings.Contains(strings.TrimSpace(sn.Src), "\n") {
		// As cleanErr does for input of several lines: say where.
		line := 0
		for _, root := range sn.Roots() {
			ast.Inspect(root, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && id.Name == name && line == 0 {
					line = sn.Line(id.Pos())
				}
				return line == 0
			})
		}
		if line > 0 {
			return fmt.Errorf("line %d: undefined: %s", line, name)
		}
	}
	return errors.New("undefined: " + name)
}

// compilerCrash reports the nil dereference yaegi's compiler panics with
// on some uses of an undefined package ("out, err :=
// exec.Command(...).Output()"). A snippet with an undefined name never
// ran, so the panic cannot be the snippet's own.
func compilerCrash(err error) bool {
	var pe *PanicError
	return errors.As(err, &pe) && strings.Contains(fmt.Sprint(pe.Value), "nil pointer dereference")
}

// missingPackages says why a standard package a user may reach for is not
// in the shell: yaegi has no symbols for it (or, for os/exec, keeps them
// apart as "unrestricted": a command's output is copied on goroutines of
// its own, where an interpreted writer would run outside any process).
var missingPackages = map[string]string{
	"exec":    "os/exec is not available in the shell; a Go program that embeds a node can offer what it needs (README: Embedding a node in a Go program)",
	"syscall": "syscall is not available in the shell",
	"unsafe":  "unsafe is not available in the shell",
	"iter":    "iter is not available in the shell: yaegi stops at Go 1.22",
	"unique":  "unique is not available in the shell: yaegi stops at Go 1.22",
	"weak":    "weak is not available in the shell: yaegi stops at Go 1.22",
}

// undefinedName returns the first name the snippet uses that nothing
// declares, or "".
func (in *Interp) undefinedName(sn *syntax.Snippet) string {
	entries, vars := extract(sn)
	own := map[string]bool{}
	for _, v := range vars {
		own[v] = true
	}
	for _, e := range entries {
		for _, n := range e.Names {
			own[n] = true
		}
	}
	for _, root := range sn.Roots() {
		for _, name := range syntax.FreeNames(root) {
			if !own[name] && !in.known(name) {
				return name
			}
		}
	}
	return ""
}

// known reports whether name means something in this interpreter.
func (in *Interp) known(name string) bool {
	if syntax.Reserved(name) || types.Universe.Lookup(name) != nil {
		return true
	}
	for _, t := range []*declTable{in.tab, in.env.prelude} {
		if t.lookup(name) != nil || t.isVar(name) {
			return true
		}
	}
	if _, ok := in.env.pkgs[name]; ok {
		return true
	}
	for _, k := range in.env.dots {
		if _, ok := in.env.exportsOf(k)[name]; ok {
			return true
		}
	}
	return false
}

// restoreVars gives the session variables that a failed snippet declared
// again ("x := "s" + 1") back the values of the last snapshot: yaegi
// resets a variable to its zero value when it compiles a declaration of
// it, even one that then fails. It returns the variables whose values
// could not be carried back (those of types declared in the shell, say).
func (in *Interp) restoreVars(ctx context.Context, names []string) (lost []string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.abandoned || len(names) == 0 {
		return nil
	}
	in.nrestore++
	pkg := "restored" + strconv.Itoa(in.nrestore)
	path := "github.com/gonode/gonode/repl/" + pkg
	exp := map[string]reflect.Value{}
	var assign []string
	for i, name := range names {
		val, ok := in.tab.value(name)
		if !ok {
			lost = append(lost, name)
			continue
		}
		c, err := capture(name, val)
		var v reflect.Value
		if err == nil {
			v, err = captureValue(c)
		}
		if err != nil {
			lost = append(lost, name)
			continue
		}
		key := "V" + strconv.Itoa(i)
		exp[key] = v
		assign = append(assign, fmt.Sprintf("%s = __%s.%s", name, pkg, key))
	}
	if len(exp) == 0 {
		return lost
	}
	if err := in.yi.Use(interp.Exports{path + "/" + pkg: exp}); err != nil {
		return names
	}
	if err := in.evalRaw(ctx, fmt.Sprintf("import __%s %q", pkg, path)); err != nil {
		return names
	}
	// An assignment keeps the variable that functions declared earlier
	// use; a declaration again if the failed one changed its type.
	for _, a := range assign {
		if in.evalRaw(ctx, a) != nil && in.evalRaw(ctx, "var "+strings.Replace(a, " = ", " = ", 1)) != nil {
			lost = append(lost, strings.Fields(a)[0])
		}
	}
	return lost
}
