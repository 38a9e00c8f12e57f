// Package syntax parses and analyzes shell snippets with go/parser and
// go/ast, without evaluating anything: what a snippet is (declarations,
// statements, unfinished input), the names it declares and the free names
// it uses, the declarations it introduces as source text (Extract), and
// how many values a call yields when the syntax can tell. It imports the
// standard library only, so that code that pushes snippets to other nodes
// can analyze them without an interpreter or a terminal.
package syntax

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"strings"
)

// Errors callers branch on.
var (
	// ErrIncomplete means the input is unfinished (an open brace, paren,
	// composite literal or raw string): read another line and try again.
	ErrIncomplete = errors.New("syntax: incomplete input")
	// ErrGoStatement rejects a go statement anywhere in a snippet.
	ErrGoStatement = errors.New("go statements are not allowed in the shell: a panic in an interpreted goroutine would kill the whole node; run concurrent code with spawn(func() { ... }), which gives it a process and an interpreter of its own")
	// ErrPackageClause rejects input that starts with a package clause.
	ErrPackageClause = errors.New("the shell takes declarations and statements, not files with a package clause")
)

// Kind says what a snippet is made of (a value). yaegi decides the same way, from the
// first token: func, type, var, const and import start declarations (input
// that does not parse as declarations is retried as statements: a
// func-literal call, or a declaration followed by statements on one line);
// anything else is statements.
type Kind uint8

const (
	Empty Kind = iota // only blanks and comments
	Decls             // top-level declarations
	Stmts             // statements, run in the session's global scope
)

func (k Kind) String() string {
	return [...]string{"empty", "declarations", "statements"}[k]
}

const (
	declPrefix = "package main;"
	stmtPrefix = "package main; func main() {"
)

// Snippet is one complete unit of shell input, parsed with go/parser. It is
// immutable once made and may be shared.
type Snippet struct {
	Src  string
	Kind Kind

	fset  *token.FileSet
	file  *ast.File
	base  int        // offset of Src in the parsed text
	stmts []ast.Stmt // Kind == Stmts
}

// Analyze parses src the way the shell evaluates it. It returns
// ErrIncomplete when more input could complete it, and an error with a
// line:column position (relative to src) for other syntax errors.
func Analyze(src string) (*Snippet, error) {
	tok := FirstToken(src)
	switch tok {
	case token.EOF:
		return &Snippet{Src: src, Kind: Empty}, nil
	case token.PACKAGE:
		return nil, ErrPackageClause
	case token.CONST, token.FUNC, token.IMPORT, token.TYPE, token.VAR:
		sn, err := parseAs(src, Decls)
		if err == nil || incomplete(err, src, declPrefix) {
			return sn, mapErr(err, src, declPrefix)
		}
		// Not declarations alone: a func literal called, or a declaration
		// followed by statements on one line ("var xs []int; xs[5]"),
		// which run as statements in the session's global scope.
		sn, err2 := parseAs(src, Stmts)
		if err2 == nil || incomplete(err2, src, stmtPrefix) {
			return sn, mapErr(err2, src, stmtPrefix)
		}
		return nil, mapErr(err, src, declPrefix)
	default:
		sn, err := parseAs(src, Stmts)
		if err == nil && endsWithLabel(sn) {
			return nil, ErrIncomplete
		}
		return sn, mapErr(err, src, stmtPrefix)
	}
}

// endsWithLabel reports whether the input ends with a label that labels
// nothing yet ("outer:" typed alone at the prompt, the loop to come on the
// next line). Go accepts a label before a closing brace, so the input
// parses; evaluated alone, it would leave the loop's break and continue
// with an undefined label.
func endsWithLabel(sn *Snippet) bool {
	if len(sn.stmts) == 0 {
		return false
	}
	l, ok := sn.stmts[len(sn.stmts)-1].(*ast.LabeledStmt)
	if !ok {
		return false
	}
	e, ok := l.Stmt.(*ast.EmptyStmt)
	return ok && e.Implicit
}

// NeedsMore reports whether src is unfinished input that a continuation line
// could complete.
func NeedsMore(src string) bool {
	_, err := Analyze(src)
	return errors.Is(err, ErrIncomplete)
}

func parseAs(src string, kind Kind) (*Snippet, error) {
	sn := &Snippet{Src: src, Kind: kind, fset: token.NewFileSet()}
	text := declPrefix + src
	sn.base = len(declPrefix)
	if kind == Stmts {
		text = stmtPrefix + src + "\n}"
		sn.base = len(stmtPrefix)
	}
	f, err := parser.ParseFile(sn.fset, "", text, parser.SkipObjectResolution|parser.DeclarationErrors)
	if err != nil {
		return nil, err
	}
	sn.file = f
	if kind == Stmts {
		sn.stmts = f.Decls[0].(*ast.FuncDecl).Body.List
	}
	return sn, nil
}

// incomplete applies the rule of yaegi's own REPL: keep reading while the
// first error ends with "found 'EOF'", is an unterminated raw string, or is
// an operand missing before the closing brace the wrapper added. One more
// case: an error located after the end of the input, in the wrapper's
// closing brace or beyond, as in "spawn(func() {" (which yaegi's rule
// misses: "missing ',' before newline in argument list").
func incomplete(err error, src, prefix string) bool {
	var list scanner.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return false
	}
	msg := list[0].Msg
	return strings.HasSuffix(msg, "found 'EOF'") ||
		msg == "raw string literal not terminated" ||
		(strings.HasPrefix(msg, "expected operand, found '}'") && !strings.HasSuffix(strings.TrimSpace(src), "}")) ||
		list[0].Pos.Offset >= len(prefix)+len(strings.TrimRight(src, " \t\r\n"))
}

// mapErr turns a parse error into ErrIncomplete or into a message whose
// position is relative to the user's input.
func mapErr(err error, src, prefix string) error {
	if err == nil {
		return nil
	}
	if incomplete(err, src, prefix) {
		return ErrIncomplete
	}
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		p := list[0].Pos
		if p.Line == 1 {
			p.Column -= len(prefix)
		}
		if p.Column < 1 {
			p.Column = 1
		}
		return fmt.Errorf("%d:%d: %s", p.Line, p.Column, list[0].Msg)
	}
	return err
}

// FirstToken returns the first token of src that is not a comment or a
// semicolon: yaegi decides from it whether input is declarations.
func FirstToken(src string) token.Token {
	var s scanner.Scanner
	fs := token.NewFileSet()
	s.Init(fs.AddFile("", -1, len(src)), []byte(src), nil, 0)
	for {
		_, tok, _ := s.Scan()
		if tok != token.COMMENT && tok != token.SEMICOLON {
			return tok
		}
	}
}

// Off returns the offset in Src of p.
func (sn *Snippet) Off(p token.Pos) int { return sn.fset.Position(p).Offset - sn.base }

// Text returns the source of n as the user typed it.
func (sn *Snippet) Text(n ast.Node) string { return sn.Src[sn.Off(n.Pos()):sn.Off(n.End())] }

// Line returns the line of p in Src, counted from 1.
func (sn *Snippet) Line(p token.Pos) int { return sn.fset.Position(p).Line }

// At renders the position of p relative to Src, as line:column.
func (sn *Snippet) At(p token.Pos) string {
	at := sn.fset.Position(p)
	if at.Line == 1 {
		at.Column -= sn.base
	}
	return fmt.Sprintf("%d:%d", at.Line, at.Column)
}

// Roots returns the top-level nodes: declarations or statements.
func (sn *Snippet) Roots() []ast.Node {
	var out []ast.Node
	switch sn.Kind {
	case Decls:
		for _, d := range sn.file.Decls {
			out = append(out, d)
		}
	case Stmts:
		for _, s := range sn.stmts {
			out = append(out, s)
		}
	}
	return out
}

// Decls returns the snippet's top-level declarations (none for statements).
func (sn *Snippet) Decls() []ast.Decl {
	if sn.Kind != Decls {
		return nil
	}
	return sn.file.Decls
}

// Statements returns the snippet's statements (none for declarations).
func (sn *Snippet) Statements() []ast.Stmt { return sn.stmts }

// Part returns a snippet of the same source made of n alone, a top-level
// declaration or statement of sn, for analyzing one part at a time.
func (sn *Snippet) Part(n ast.Node) *Snippet {
	part := &Snippet{Src: sn.Src, Kind: sn.Kind, fset: sn.fset, base: sn.base}
	switch n := n.(type) {
	case ast.Decl:
		part.Kind, part.file = Decls, &ast.File{Decls: []ast.Decl{n}}
	case ast.Stmt:
		part.Kind, part.stmts = Stmts, []ast.Stmt{n}
	}
	return part
}

// Final returns the expression of the snippet's last statement when that
// statement is an expression statement: the only case that prints a value.
func (sn *Snippet) Final() ast.Expr {
	if sn.Kind != Stmts || len(sn.stmts) == 0 {
		return nil
	}
	if es, ok := sn.stmts[len(sn.stmts)-1].(*ast.ExprStmt); ok {
		return es.X
	}
	return nil
}

// CheckGo rejects go statements anywhere in the snippet, function bodies
// and literals included.
func (sn *Snippet) CheckGo() error {
	var err error
	for _, n := range sn.Roots() {
		ast.Inspect(n, func(n ast.Node) bool {
			if g, ok := n.(*ast.GoStmt); ok && err == nil {
				err = fmt.Errorf("%s: %w", sn.At(g.Pos()), ErrGoStatement)
			}
			return err == nil
		})
	}
	return err
}
