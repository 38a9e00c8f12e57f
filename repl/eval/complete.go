package eval

import (
	"go/token"
	"path"
	"sort"
	"strings"
	"unicode"

	"github.com/gonode/gonode/repl/syntax"
)

// Complete returns the completions of the identifier or pkg.member that
// ends at byte offset pos of line, and the offset where that fragment
// starts. Candidates are the prelude's helpers and the names of the
// packages it dot-imports, package names and their members (from the
// export maps, not from yaegi: interp.Symbols("") panics), the session's
// declarations and variables, builtins and keywords. Safe for concurrent
// use.
func (s *Session) Complete(line string, pos int) (cands []string, start int) {
	if pos > len(line) {
		pos = len(line)
	}
	start = pos
	for start > 0 {
		r := rune(line[start-1])
		if r != '.' && r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && r < 0x80 {
			break
		}
		start--
	}
	frag := line[start:pos]
	seen := map[string]bool{}
	add := func(c string) {
		if strings.HasPrefix(c, frag) && !seen[c] && !syntax.Reserved(c) {
			seen[c] = true
			cands = append(cands, c)
		}
	}
	if pkg, member, ok := strings.Cut(frag, "."); ok {
		if key := s.packageKey(pkg); key != "" {
			for name := range s.env.exportsOf(key) {
				if token.IsExported(name) && strings.HasPrefix(name, member) {
					add(pkg + "." + name)
				}
			}
			// The generic functions the shell provides (stdgeneric.go):
			// yaegi's slices, maps and cmp export none.
			for fn := range genericResults {
				if p, name, _ := strings.Cut(fn, "."); p == path.Base(key) && strings.HasPrefix(name, member) {
					add(pkg + "." + name)
				}
			}
		}
	} else {
		for _, n := range s.tab.identifiers() {
			add(n)
		}
		for _, n := range s.env.prelude.identifiers() {
			add(n)
		}
		for _, k := range s.env.dots {
			for n := range s.env.exportsOf(k) {
				add(n)
			}
		}
		for n := range s.env.pkgs {
			add(n)
		}
		for _, n := range syntax.Builtins() {
			add(n)
		}
		for _, n := range syntax.PredeclaredTypes() {
			add(n)
		}
		for t := token.BREAK; t <= token.VAR; t++ {
			add(t.String())
		}
		add("nil")
		add("true")
		add("false")
	}
	sort.Strings(cands)
	return cands, start
}

// packageKey returns the Exports key of the package a name stands for in
// the shell: an import of the session, or a package ImportUsed provides.
func (s *Session) packageKey(name string) string {
	if e := s.tab.lookup(name); e != nil {
		if e.Kind == syntax.DeclImport {
			return s.env.keyOf(strings.Fields(e.Key)[2])
		}
		return ""
	}
	return s.env.pkgs[name]
}
