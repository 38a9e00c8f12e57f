package conformance

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var (
	addrRE  = regexp.MustCompile(`0x[0-9a-f]{5,}`)
	stampRE = regexp.MustCompile(`(?m)^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d `)
)

// normalize takes out of an output what changes from run to run:
// addresses and log timestamps.
func normalize(s string) string {
	return stampRE.ReplaceAllString(addrRE.ReplaceAllString(s, "0x…"), "")
}

// bigNumberRE matches the decimal addresses that a wrong output can
// show (a value of a session type printed with %d: {1 5461472}).
var bigNumberRE = regexp.MustCompile(`(^|[^.\d])\d{7,}`)

// addresses hides, in what the shell printed wrongly, the numbers that
// may be addresses: they change with every build of gonode, and the
// table must not. The comparison itself sees them.
func addresses(s string) string { return bigNumberRE.ReplaceAllString(s, "${1}N") }

// insides are the messages that speak of the interpreter rather than of
// the user's code: a student cannot act on them.
var insides = regexp.MustCompile(`nil type|nil reflect type|definition loop|CFG post-order|` +
	// a reflect message with no sentence of the shell's before it
	`(?m)^\*\* \((?:error|panic)\) (?:line \d+: )?(?:\d+:\d+: )?reflect[:.]`)

// misleading matches messages that say something false about the
// user's code: that a name it declares is undefined (group 1 or 2 is the
// name, checked against the form), or that a type it declares with an
// Error method does not implement error.
var misleading = regexp.MustCompile(`undefined: (\w+)|label (\w+) undefined|target must be interface or implement error`)

// interpCrash matches a runtime error, which is the interpreter's own when
// the compiled program ran without one.
var interpCrash = regexp.MustCompile(`runtime error|interface conversion`)

// classify compares what the shell did with what the compiled program
// did and returns the form's status, with a short account for the table.
func classify(sh shelled, c compiled, declared map[string]bool) (status, detail string) {
	said := strings.TrimSpace(sh.stderr)
	switch {
	case sh.hung && said == "":
		return wrong, "hangs: no end within the time limit" + printedSoFar(sh, c)
	case said == "" && sh.log != "":
		return unclear, "stray log line " + firstLine(sh.log)
	case said == "" && c.panic != "":
		return wrong, fmt.Sprintf("no error; Go panics: %s", c.panic) + printedSoFar(sh, c)
	case said == "" && sh.stdout != c.stdout:
		return wrong, difference(addresses(sh.stdout), c.stdout)
	case said == "":
		return pass, ""
	}
	msg := firstLine(said)
	switch {
	case insides.MatchString(said) || (interpCrash.MatchString(said) && (c.panic == "" || !strings.Contains(said, c.panic))):
		return unclear, msg
	case falsehood(msg, declared):
		// Only the first error: a later "undefined: x" may follow from
		// the failure of the input that declared x, as it would in Go.
		return unclear, msg
	case sh.log != "":
		return unclear, "stray log line " + firstLine(sh.log) + ", then " + msg
	case c.panic != "" && strings.Contains(said, c.panic) && strings.HasPrefix(sh.stdout, c.stdout) && !sh.hung:
		// Both fail the same way. The program stops there, the shell
		// goes on with the next input: it may print more.
		return pass, ""
	case sh.hung:
		// Waiting for what the refused input would have done.
		return refused, msg + " (then waits)"
	}
	return refused, msg
}

// falsehood reports whether msg says something false about the form.
func falsehood(msg string, declared map[string]bool) bool {
	for _, m := range misleading.FindAllStringSubmatch(msg, -1) {
		if (m[1] == "" && m[2] == "") || declared[m[1]] || declared[m[2]] {
			return true
		}
	}
	return false
}

// printedSoFar says what the hung or silent shell printed, when it differs.
func printedSoFar(sh shelled, c compiled) string {
	if sh.stdout == c.stdout {
		return ""
	}
	return " (" + difference(addresses(sh.stdout), c.stdout) + ")"
}

// difference says how the shell's output differs from Go's: whole when
// both are short, else from the first line that differs.
func difference(got, want string) string {
	if len(got) > 60 || len(want) > 60 {
		g, w := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
		for i := 0; ; i++ {
			if i >= len(g) || i >= len(w) || g[i] != w[i] {
				at := ""
				if i > 0 {
					at = fmt.Sprintf("from line %d, ", i+1)
				}
				return at + "prints " + quote(strings.Join(g[min(i, len(g)):], "")) + "; Go prints " + quote(strings.Join(w[min(i, len(w)):], ""))
			}
		}
	}
	return "prints " + quote(got) + "; Go prints " + quote(want)
}

// firstLine is the first line of a message, as a code span.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return code(clip(line, 140))
}

// quote is an output, quoted Go-style, as a code span.
func quote(s string) string { return code(clip(fmt.Sprintf("%q", s), 70)) }

// code makes s a markdown code span.
func code(s string) string {
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		sh     shelled
		c      compiled
		status string
	}{
		{shelled{stdout: "1\n"}, compiled{stdout: "1\n"}, pass},
		{shelled{stdout: "333"}, compiled{stdout: "012"}, wrong},
		{shelled{stdout: "1\n", hung: true}, compiled{stdout: "1\n"}, wrong},
		{shelled{stderr: "** (error) go statements are not allowed\n", hung: true}, compiled{stdout: "1\n"}, refused},
		{shelled{}, compiled{panic: "boom"}, wrong},
		{shelled{stderr: "** (panic) boom\n"}, compiled{panic: "boom"}, pass},
		{shelled{stdout: "1\n0\n", stderr: "** (panic) boom\n"}, compiled{stdout: "1\n", panic: "boom"}, pass},
		{shelled{stdout: "2\n", stderr: "** (panic) boom\n"}, compiled{stdout: "1\n", panic: "boom"}, refused},
		{shelled{stderr: "** (error) undefined: min\n"}, compiled{stdout: "1\n"}, refused},
		{shelled{stderr: "** (error) line 3: undefined: ok\n"}, compiled{stdout: "1\n"}, unclear},
		{shelled{stderr: "** (panic) nil type\n", log: "nil type\n"}, compiled{stdout: "1 true\n"}, unclear},
		{shelled{log: "nil type\n"}, compiled{}, unclear},
		{shelled{stderr: "** (error) line 2: 2:5: variable definition loop\n"}, compiled{}, unclear},
		{shelled{stderr: "** (panic) reflect: Call using zero Value argument\n"}, compiled{panic: "runtime error: invalid memory address or nil pointer dereference"}, unclear},
		{shelled{stderr: "** (panic) runtime error: index out of range [1] with length 1\n"}, compiled{stdout: "int\n"}, unclear},
		{shelled{stderr: "** (panic) runtime error: index out of range [5] with length 3\n"}, compiled{panic: "runtime error: index out of range [5] with length 3"}, pass},
		{shelled{stderr: "** (error) go statements are not allowed: use spawn(func() { ... })\n"}, compiled{stdout: "hi\n"}, refused},
	} {
		if got, detail := classify(tc.sh, tc.c, map[string]bool{"ok": true}); got != tc.status {
			t.Errorf("classify(%+v, %+v) = %s (%s), want %s", tc.sh, tc.c, got, detail, tc.status)
		}
	}
}
