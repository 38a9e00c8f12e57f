package conformance

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
	"github.com/rogpeppe/go-internal/txtar"
)

// The statuses of a form (see the package comment).
const (
	pass    = "pass"
	refused = "refused"
	wrong   = "wrong"
	unclear = "unclear"
)

var statuses = []string{pass, refused, wrong, unclear}

// form is one entry of testdata/forms.txtar.
type form struct {
	name  string // group/name, unique
	want  string // the expected status
	input string // what is typed at the prompt, line by line
	goSrc string // the compiled program (package main), written by hand; "" derives it
	pkg   string // the Go package its compiled version is built as
}

// A form's header is "-- group/name [status] --"; the program that the
// shell's input is compared with, when it cannot be derived from the
// input, follows as "-- group/name.go --".
var headerRE = regexp.MustCompile(`^([\w./-]+) \[(\w+)\]$`)

// loadForms reads and checks the forms file.
func loadForms(path string) ([]*form, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ar := txtar.Parse(data)
	var forms []*form
	byName := map[string]*form{}
	for _, f := range ar.Files {
		if name, ok := strings.CutSuffix(f.Name, ".go"); ok {
			fm := byName[name]
			if fm == nil {
				return nil, fmt.Errorf("%s: no form %q before it", f.Name, name)
			}
			if fm.goSrc != "" {
				return nil, fmt.Errorf("%s: a second program for %q", f.Name, name)
			}
			fm.goSrc = string(f.Data)
			continue
		}
		m := headerRE.FindStringSubmatch(f.Name)
		if m == nil {
			return nil, fmt.Errorf("header %q: want \"group/name [status]\" or \"group/name.go\"", f.Name)
		}
		if !isStatus(m[2]) {
			return nil, fmt.Errorf("%s: status %q is none of %v", m[1], m[2], statuses)
		}
		if byName[m[1]] != nil {
			return nil, fmt.Errorf("form %s twice", m[1])
		}
		fm := &form{name: m[1], want: m[2], input: string(f.Data), pkg: fmt.Sprintf("form%03d", len(forms)+1)}
		if strings.TrimSpace(fm.input) == "" {
			return nil, fmt.Errorf("%s: no input", fm.name)
		}
		forms = append(forms, fm)
		byName[fm.name] = fm
	}
	return forms, nil
}

func isStatus(s string) bool {
	for _, st := range statuses {
		if s == st {
			return true
		}
	}
	return false
}

// inputs splits a form into the snippets the shell evaluates one by one:
// lines are gathered while the input is unfinished, as at the prompt.
func inputs(text string) []string {
	var out []string
	var buf strings.Builder
	for _, line := range strings.SplitAfter(strings.TrimRight(text, "\n")+"\n", "\n") {
		if line == "" {
			continue
		}
		buf.WriteString(line)
		if syntax.NeedsMore(buf.String()) {
			continue
		}
		if s := buf.String(); strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
		buf.Reset()
	}
	if strings.TrimSpace(buf.String()) != "" {
		out = append(out, buf.String())
	}
	return out
}

// declared returns the names the form's input declares (variables,
// functions, types, constants, labels): a shell that calls one of them
// undefined is not telling the user anything true.
func (f *form) declared() map[string]bool {
	names := map[string]bool{}
	add := func(ids ...*ast.Ident) {
		for _, id := range ids {
			names[id.Name] = true
		}
	}
	for _, in := range inputs(f.input) {
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, "", "package p\n"+in, 0)
		if err != nil {
			if file, err = parser.ParseFile(fset, "", "package p\nfunc _() {\n"+in+"\n}", 0); err != nil {
				continue
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if n.Tok == token.DEFINE {
					for _, e := range n.Lhs {
						if id, ok := e.(*ast.Ident); ok {
							add(id)
						}
					}
				}
			case *ast.RangeStmt:
				if n.Tok == token.DEFINE {
					for _, e := range []ast.Expr{n.Key, n.Value} {
						if id, ok := e.(*ast.Ident); ok {
							add(id)
						}
					}
				}
			case *ast.ValueSpec:
				add(n.Names...)
			case *ast.TypeSpec:
				add(n.Name)
			case *ast.FuncDecl:
				add(n.Name)
			case *ast.LabeledStmt:
				add(n.Label)
			}
			return true
		})
	}
	return names
}
