package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/gonode/gonode/repl/syntax"
)

// Import paths of the host packages the shell's own plumbing uses. They are
// imported under names starting with "__", which the shell reserves.
const (
	rtPath  = "github.com/gonode/gonode/repl/shellrt" // Result, Ship, Bundle
	rtName  = "__gonode"
	capPath = "github.com/gonode/gonode/repl/captured" // a worker's captured values
	capName = "__captured"
	argPath = "github.com/gonode/gonode/repl/callargs" // arguments of Func.Call
	argName = "__args"
)

// Options configure the interpreters of a session: the shell's and every
// worker's. They are read, never modified.
type Options struct {
	// Exports are host packages, keyed the yaegi way: "import/path/name".
	// Each is importable and, through ImportUsed, usable qualified by its
	// name without an import; the Prelude may dot-import it.
	Exports interp.Exports
	// Prelude is Go source (declarations) evaluated in every interpreter
	// before anything else, e.g. `import . "github.com/gonode/gonode/node"`.
	// Its declarations are never shipped: every interpreter has them. It
	// is evaluated as written: ship calls in it are not rewritten.
	Prelude string
	// Stdout and Stderr receive what interpreted code prints (fmt.Print*,
	// println, yaegi's panic traces). Default os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// ShipCalls names the host functions, as called in a snippet ("spawn",
	// "node.Spawn"), whose argument at the given index is code to run in an
	// interpreter of its own. In a snippet that argument must be a func
	// literal or the name of a function declared in the session; the shell
	// rewrites it into a Bundle value, so the host function takes a Bundle.
	// A negative index counts from the end: -1 is the last argument.
	ShipCalls map[string]int
	// ShipLiterals are ShipCalls for helpers that take code or something
	// else there (async takes a function's name or a literal): a func
	// literal is rewritten into a Bundle, anything else is left as written.
	ShipLiterals map[string]int
	// TypedCalls names generic helpers whose result is their type
	// argument (the shell's as[T]), so that x := as[T](v) compiles at the
	// prompt (typedcalls.go).
	TypedCalls map[string]bool
}

// Errors callers branch on.
var (
	// ErrAbandoned is returned by an interpreter that was cancelled: its
	// evaluation goroutine may still run, so it is not used again.
	ErrAbandoned = errors.New("repl: interpreter abandoned after cancellation")
	// ErrUndefined means a name is not declared in the session.
	ErrUndefined = errors.New("repl: undefined")
)

// PanicError is a panic raised by evaluated code, recovered. Like every
// error here, it is a value that is not modified once returned.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap gives the panic value when it is an error, so that errors.Is and
// errors.As see through a panic to what was thrown.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// env is what the interpreters of one configuration share: immutable,
// apart from the type-name index built once on first use.
type env struct {
	opts    Options
	pkgs    map[string]string // package name -> Exports key, for unambiguous names
	byPath  map[string]string // import path -> Exports key
	dots    []string          // Exports keys the prelude dot-imports
	prelude *declTable        // the prelude's declarations

	typesOnce sync.Once
	types     map[reflect.Type]string // host type -> pkg.Name, set once by typeName
}

func newEnv(opts Options) (*env, error) {
	quietYaegiLog()
	e := &env{opts: opts, pkgs: map[string]string{}, byPath: map[string]string{}, prelude: newDeclTable()}
	count := map[string]int{}
	byPath := e.byPath
	for _, m := range []interp.Exports{stdlib.Symbols, opts.Exports} {
		for k := range m {
			name := path.Base(k)
			if path.Dir(k) == "." || strings.HasPrefix(k, "github.com/traefik/yaegi/") {
				continue
			}
			count[name]++
			e.pkgs[name] = k
			byPath[path.Dir(k)] = k
		}
	}
	for name, n := range count {
		if k, ok := preferred[name]; ok {
			e.pkgs[name] = k // the shell's choice (stdlib.go)
		} else if n > 1 {
			delete(e.pkgs, name) // ImportUsed leaves ambiguous names unusable
		}
	}
	if strings.TrimSpace(opts.Prelude) != "" {
		sn, err := syntax.Analyze(opts.Prelude)
		if err != nil {
			return nil, fmt.Errorf("repl: prelude: %w", err)
		}
		entries, vars := extract(sn)
		e.prelude.commit(entries, vars)
		for _, en := range entries {
			if en.Kind == syntax.DeclImport && len(en.Names) == 0 {
				p := strings.Fields(en.Key)[2]
				if k, ok := byPath[p]; ok {
					e.dots = append(e.dots, k)
				}
			}
		}
	}
	return e, nil
}

// keyOf returns the Exports key of an import path, or "".
func (e *env) keyOf(importPath string) string { return e.byPath[importPath] }

// exportsOf returns the symbols of the package with Exports key k.
func (e *env) exportsOf(k string) map[string]reflect.Value {
	if m, ok := e.opts.Exports[k]; ok {
		return m
	}
	return stdlib.Symbols[k]
}

// Interp is one yaegi interpreter with the standard library, the host
// Exports and the prelude loaded. It is safe for concurrent use, but its
// evaluations are serialized: an Interp runs one thing at a time. Once an
// evaluation is cancelled the Interp is abandoned and returns ErrAbandoned.
type Interp struct {
	env *env
	tab *declTable // declarations evaluated here (shared with a Session for the shell)

	mu        sync.Mutex // serializes evaluations; guards the fields below
	yi        *interp.Interpreter
	abandoned bool
	imported  map[string]bool // import keys evaluated here
	fast      fastPaths       // the call server of Func.Call and Assign's setters (pool_call.go)
	nfuncs    int             // Func bindings made
	nrestore  int             // restoreVars calls made
	ntemps    int             // temporaries the lowering declared (lower.go)
	deferred  []func()        // calls deferred at the prompt, run when the input ends (lower_defer.go)
	private   map[string]bool // channels made at the prompt that nothing else holds (lower_deadlock.go)
	evalCtx   context.Context // the context of the running evaluation: contained calls stop with it (contain.go)

	resMu  sync.Mutex // guards result, set by __gonode.Result from evaluated code, and typeNames
	result []any
	shown  []any // set by __gonode.Shown (show.go)
	// typeNames names the session's struct types for %T and %#v (show.go),
	// kept by run after a snippet that declares a type.
	typeNames *typeTable
}

// NewInterp returns an interpreter with the standard library, opts.Exports
// and opts.Prelude loaded.
func NewInterp(opts Options) (*Interp, error) {
	e, err := newEnv(opts)
	if err != nil {
		return nil, err
	}
	return newInterp(e, newDeclTable(), nil)
}

func newInterp(e *env, tab *declTable, stdout io.Writer) (*Interp, error) {
	if stdout == nil {
		stdout = e.opts.Stdout
	}
	if stdout == nil {
		stdout = os.Stdout
	}
	stderr := e.opts.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	yi := interp.New(interp.Options{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Args: []string{"gonode"}, Env: os.Environ()})
	in := &Interp{env: e, tab: tab, yi: yi, imported: map[string]bool{}}
	if err := yi.Use(stdlibFirst); err != nil { // stdlib.go
		return nil, err
	}
	if err := yi.Use(containSymbols(in)); err != nil {
		return nil, err
	}
	if e.opts.Exports != nil {
		if err := yi.Use(e.opts.Exports); err != nil {
			return nil, err
		}
	}
	yi.ImportUsed()
	if err := yi.Use(stdlibLater); err != nil { // importable, not usable unimported
		return nil, err
	}
	if err := yi.Use(wrapperSymbols()); err != nil { // show.go
		return nil, err
	}
	rt := map[string]reflect.Value{
		"Result":       reflect.ValueOf(in.setResult),
		"Ship":         reflect.ValueOf(in.ship),
		"Bundle":       reflect.ValueOf((*Bundle)(nil)),
		"Recv":         reflect.ValueOf(in.recv), // lower.go
		"Zero":         reflect.ValueOf(zero),
		"Defer":        reflect.ValueOf(in.deferAtEnd),  // lower_defer.go
		"RunDeferred":  reflect.ValueOf(in.runDeferred), // lower_defer.go
		"CallDeferred": reflect.ValueOf(callDeferred),   // lower_defer.go
		"Deadlock":     reflect.ValueOf(deadlockError),  // lower_deadlock.go
	}
	rt["TypeString"], rt["GoSyntax"], rt["ErrorsAs"] = reflect.ValueOf(in.typeString), reflect.ValueOf(in.goSyntax), reflect.ValueOf(in.errorsAs) // show.go
	// show.go, typenames.go
	rt["Shown"], rt["PrintArg"] = reflect.ValueOf(in.setShown), reflect.ValueOf(in.printArg)
	rt["JSONValue"], rt["TypeOf"] = reflect.ValueOf(in.jsonValue), reflect.ValueOf(in.typeOf) // hostview.go
	// stdgeneric.go
	for k, v := range genericSymbols() {
		rt[k] = v
	}
	if err := yi.Use(interp.Exports{rtPath + "/shellrt": rt}); err != nil {
		return nil, err
	}
	if err := yi.Use(resultMapTypes(rt["Shown"], rt["PrintArg"])); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := in.evalRaw(ctx, "import "+rtName+` "`+rtPath+`"`); err != nil {
		return nil, err
	}
	if strings.TrimSpace(e.opts.Prelude) != "" {
		if err := in.evalRaw(ctx, e.opts.Prelude); err != nil {
			return nil, fmt.Errorf("repl: prelude: %w", err)
		}
	}
	return in, nil
}

// setResult is __gonode.Result: evaluated code hands over the values of
// the final expression through it.
func (in *Interp) setResult(vals ...any) {
	in.resMu.Lock()
	in.result = vals
	in.resMu.Unlock()
}

func (in *Interp) takeResult() []any {
	in.resMu.Lock()
	defer in.resMu.Unlock()
	r := in.result
	in.result = nil
	return r
}

// Abandoned reports whether an evaluation was cancelled, after which the
// interpreter is not used again.
func (in *Interp) Abandoned() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.abandoned
}

// evalRaw evaluates src as is, with EvalWithContext. in.mu must be held,
// or in not yet shared.
func (in *Interp) evalRaw(ctx context.Context, src string) error {
	if in.abandoned {
		return ErrAbandoned
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	in.evalCtx = ctx
	_, err := in.yi.EvalWithContext(ctx, src)
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		in.abandoned = true
		return err
	}
	var p interp.Panic
	if errors.As(err, &p) {
		v := p.Value
		if rv, ok := v.(reflect.Value); ok && rv.IsValid() && rv.CanInterface() {
			v = rv.Interface() // a panic inside an interpreted function called through a wrapper
		}
		if se, ok := v.(*ShipError); ok {
			return se
		}
		return &PanicError{Value: v, Stack: p.Stack}
	}
	return cleanErr(err, src)
}

var posRE = regexp.MustCompile(`^(?:_\.go:)?(\d+):(\d+): `)

// cleanErr drops the positions yaegi reports against its wrapped (and our
// rewritten) source: they mislead for one-line input. For input of several
// lines the line is kept.
func cleanErr(err error, src string) error {
	msg := err.Error()
	m := posRE.FindStringSubmatch(msg)
	if m == nil {
		return err
	}
	msg = msg[len(m[0]):]
	if strings.Contains(strings.TrimSpace(src), "\n") {
		msg = "line " + m[1] + ": " + msg
	}
	return errors.New(msg)
}
