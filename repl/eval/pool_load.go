package eval

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/traefik/yaegi/interp"
)

// loadBundle returns b's function in an interpreter of its own: an idle
// one of the pool that holds exactly b's code, with b's captured values
// assigned, or a new one. tag is the name of the session function b was
// made for ("" for a literal). The Func is the caller's until Release.
func (s *Session) loadBundle(ctx context.Context, b Bundle, tag string, stdout io.Writer) (*Func, error) {
	stdout = s.outOr(stdout)
	vals := make([]reflect.Value, len(b.Captures))
	var key strings.Builder
	key.WriteString("bundle\x00" + b.Decls + "\x00" + b.Func)
	for i, c := range b.Captures {
		v, err := captureValue(c)
		if err != nil {
			return nil, err
		}
		vals[i] = v
		key.WriteString("\x00" + c.Name + " " + v.Type().String())
	}
	k := key.String()
	for pi := s.pool.get(k, tag); pi != nil; pi = s.pool.get(k, tag) {
		if pi.prepareBundle(vals, stdout) {
			return pi.use(s.pool), nil
		}
	}
	pi, err := s.buildBundle(ctx, b, vals, stdout)
	if err != nil {
		return nil, err
	}
	pi.key, pi.tag = k, tag
	return pi.use(s.pool), nil
}

// compileSource is loadBundle for a source text made by Source: the pool
// key is the text, and a reuse evaluates its var initializers again.
func (s *Session) compileSource(ctx context.Context, source string, stdout io.Writer) (*Func, error) {
	stdout = s.outOr(stdout)
	k := "source\x00" + source
	for pi := s.pool.get(k, ""); pi != nil; pi = s.pool.get(k, "") {
		if pi.prepareSource(stdout) {
			return pi.use(s.pool), nil
		}
	}
	out := &switchWriter{}
	out.set(stdout)
	in, err := newInterp(s.env, newDeclTable(), out)
	if err != nil {
		return nil, err
	}
	s.pool.builds.Add(1)
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, err := in.load(ctx, Bundle{Decls: source}, true); err != nil {
		return nil, err
	}
	in.snapshotLocked()
	s.types.learn(ctx, in) // a Point shipped here is rebuilt as one
	fn, err := in.bindFunc(ctx, sourceFunc)
	if err != nil {
		return nil, err
	}
	pi := &pooled{key: k, in: in, fn: fn, out: out}
	if text, ok := resetSource(source); !ok {
		pi.broken = true // not reusable: used once, then dropped
	} else if text != "" {
		if pi.reset, err = in.resetFunc(ctx, text); err != nil {
			pi.broken = true
		}
	}
	return pi.use(s.pool), nil
}

// outOr is where a use's output goes: w, else Options.Stdout, else
// os.Stdout.
func (s *Session) outOr(w io.Writer) io.Writer {
	switch {
	case w != nil:
		return w
	case s.env.opts.Stdout != nil:
		return s.env.opts.Stdout
	}
	return os.Stdout
}

// buildBundle builds a pooled interpreter holding b.
func (s *Session) buildBundle(ctx context.Context, b Bundle, vals []reflect.Value, stdout io.Writer) (*pooled, error) {
	out := &switchWriter{}
	out.set(stdout)
	in, err := newInterp(s.env, newDeclTable(), out)
	if err != nil {
		return nil, err
	}
	s.pool.builds.Add(1)
	in.mu.Lock()
	defer in.mu.Unlock()
	caps, err := in.load(ctx, b, true)
	if err != nil {
		return nil, err
	}
	in.snapshotLocked() // values for what the function ships in turn
	s.types.learn(ctx, in)
	fn, err := in.bindFunc(ctx, b.Func)
	if err != nil {
		return nil, err
	}
	pi := &pooled{in: in, fn: fn, out: out, caps: caps, names: names(b.Captures)}
	if len(caps) > 0 {
		var text strings.Builder
		for i, n := range pi.names {
			text.WriteString(n + " = " + capName + "." + capGetter(i) + "()\n")
		}
		if pi.reset, err = in.resetFunc(ctx, text.String()); err != nil {
			pi.broken = true
		}
	}
	return pi, nil
}

// use hands out pi's function for one use, which Func.Release ends.
func (pi *pooled) use(p *interpPool) *Func {
	f := pi.fn
	return &Func{name: f.name, typ: f.typ, fn: f.fn, in: f.in, bind: f.bind, pooled: pi, pool: p}
}

// prepareBundle readies a reused interpreter for a use with captured
// values vals: they are assigned to the captured variables, whatever the
// last use assigned to them. It reports false when the interpreter cannot
// be reused; it is then dropped.
func (pi *pooled) prepareBundle(vals []reflect.Value, stdout io.Writer) bool {
	in := pi.in
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.abandoned || len(vals) != len(pi.caps) {
		return false
	}
	ifaces := make([]any, len(vals))
	for i, v := range vals {
		if v.Type() != pi.caps[i].Type() {
			return false
		}
		pi.caps[i].Set(v)
		ifaces[i] = v.Interface()
	}
	in.tab.setValues(pi.names, ifaces)
	return pi.resetLocked(stdout)
}

// prepareSource readies a reused interpreter of a source text.
func (pi *pooled) prepareSource(stdout io.Writer) bool {
	pi.in.mu.Lock()
	defer pi.in.mu.Unlock()
	return !pi.in.abandoned && pi.resetLocked(stdout)
}

func (pi *pooled) resetLocked(stdout io.Writer) bool {
	pi.out.set(stdout)
	if !pi.reset.IsValid() || !pi.used {
		return true
	}
	// Called on this goroutine, without a context: the reset only
	// evaluates the initializers Source writes (literals) or reads the
	// captured values, so it has nothing to cancel.
	_, err := callHost(pi.reset, nil)
	return err == nil
}

// resetFunc makes an interpreted func() running the statements text (in.mu
// held), to be called through reflect: 1.5 us, where executing a compiled
// program takes 4.5.
func (in *Interp) resetFunc(ctx context.Context, text string) (reflect.Value, error) {
	const name = "__gonode_reset"
	if err := in.evalRaw(ctx, name+" := func() {\n"+text+"}"); err != nil {
		return reflect.Value{}, err
	}
	in.takeResult()
	if err := in.evalRaw(ctx, rtName+".Result("+name+")"); err != nil {
		return reflect.Value{}, err
	}
	vals := in.takeResult()
	if len(vals) != 1 || reflect.ValueOf(vals[0]).Kind() != reflect.Func {
		return reflect.Value{}, fmt.Errorf("repl: no reset function")
	}
	return reflect.ValueOf(vals[0]), nil
}

// capGetter is the name under which capture i is exported to a worker: a
// function returning the captured value. A function rather than a
// variable, because yaegi copies an exported variable's value when it
// compiles the code that reads it (a reuse would see the first value), and
// takes an exported nil pointer for a type.
func capGetter(i int) string { return "G" + strconv.Itoa(i) }

// getter returns a function of no arguments returning slot's current value.
func getter(slot reflect.Value) reflect.Value {
	t := reflect.FuncOf(nil, []reflect.Type{slot.Type()}, false)
	return reflect.MakeFunc(t, func([]reflect.Value) []reflect.Value { return []reflect.Value{slot} })
}

// resetSource returns the statements that give the package-level variables
// of a source text made by Source their initial values again (their
// initializers, in order; the function itself is left alone), "" if it has
// none, and false if the text cannot be reset that way (an init function,
// a variable without an initializer whose zero value cannot be written).
func resetSource(source string) (string, bool) {
	const head = "package p\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", head+source, parser.SkipObjectResolution)
	if err != nil {
		return "", false
	}
	text := func(n ast.Node) string {
		return source[fset.Position(n.Pos()).Offset-len(head) : fset.Position(n.End()).Offset-len(head)]
	}
	var b strings.Builder
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "init" {
				return "", false
			}
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			for _, sp := range d.Specs {
				vs := sp.(*ast.ValueSpec)
				if len(vs.Names) == 1 && vs.Names[0].Name == sourceFunc {
					continue
				}
				var lhs, rhs []string
				for _, n := range vs.Names {
					lhs = append(lhs, n.Name)
				}
				switch {
				case len(vs.Values) > 0:
					for _, v := range vs.Values {
						rhs = append(rhs, text(v))
					}
				case vs.Type != nil && (text(vs.Type) == "any" || text(vs.Type) == "interface{}"):
					for range vs.Names {
						rhs = append(rhs, "nil")
					}
				default:
					return "", false
				}
				b.WriteString(strings.Join(lhs, ", ") + " = " + strings.Join(rhs, ", ") + "\n")
			}
		}
	}
	return b.String(), true
}

// load evaluates a bundle's captured variables and declarations in in
// (in.mu held or in unshared) and returns the slots the captured values
// are read from (capture i through captured.G<i>(), see capGetter): a
// pooled interpreter sets them for its next use. With commit the
// variables and declarations are recorded in in.tab.
func (in *Interp) load(ctx context.Context, b Bundle, commit bool) ([]reflect.Value, error) {
	var slots []reflect.Value
	if len(b.Captures) > 0 {
		exp := map[string]reflect.Value{}
		var src strings.Builder
		names := make([]string, len(b.Captures))
		vals := make([]any, len(b.Captures))
		src.WriteString("import " + capName + ` "` + capPath + "\"\n")
		for i, c := range b.Captures {
			v, err := captureValue(c)
			if err != nil {
				return nil, err
			}
			slots = append(slots, v)
			exp[capGetter(i)] = getter(v)
			names[i], vals[i] = c.Name, v.Interface()
			fmt.Fprintf(&src, "var %s%s = %s.%s()\n", c.Name, declaredType(v.Type()), capName, capGetter(i))
		}
		if err := in.yi.Use(interp.Exports{capPath + "/captured": exp}); err != nil {
			return nil, err
		}
		if err := in.evalRaw(ctx, src.String()); err != nil {
			return nil, err
		}
		if commit {
			in.tab.commit(nil, names)
			in.tab.setValues(names, vals)
		}
	}
	if strings.TrimSpace(b.Decls) == "" {
		return slots, nil
	}
	_, err := in.run(ctx, b.Decls, commit)
	return slots, err
}

// declaredType is the type a captured variable is declared with, " T", or
// "" to let it be inferred from its getter. yaegi compiles a send or
// receive on a channel whose type it inferred from a host function's
// result into a nil dereference ("CFG post-order panic"), so a channel is
// declared with its type where that type needs no package to be named.
func declaredType(t reflect.Type) string {
	if t.Kind() != reflect.Chan || strings.Contains(t.String(), ".") {
		return ""
	}
	return " " + t.String()
}
