package repl

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gonode/gonode/repl/term"
)

// A snippet whose value is an error counts as failed where the shell is
// told so (scripts, -e, piped input): printed on Err, counted, and with
// StopOnError the end of the run.
func TestShellErrorValues(t *testing.T) {
	input := "1\nfmt.Errorf(\"bad\")\nstrconv.Atoi(\"x\")\n[]any{fmt.Errorf(\"inside\")}\nerr := fmt.Errorf(\"kept\"); err != nil\n2\n"
	for _, fail := range []bool{false, true} {
		var out, errw strings.Builder
		s := newTestSessionOut(t, newHost(), &out)
		sh := &Shell{Session: s, Lines: term.NewPipeReader(strings.NewReader(input), &out), Out: &out, Err: &errw, ErrorValuesFail: fail}
		if err := sh.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if want := "1\n[#Error<inside>]\ntrue\n2\n"; out.String() != want {
			t.Errorf("fail=%v: stdout %q, want %q", fail, out.String(), want)
		}
		if want := "** (error) bad\n** (error) strconv.Atoi: parsing \"x\": invalid syntax\n"; errw.String() != want {
			t.Errorf("fail=%v: stderr %q, want %q", fail, errw.String(), want)
		}
		if want := map[bool]int{false: 0, true: 2}[fail]; sh.Failed != want {
			t.Errorf("fail=%v: Failed = %d, want %d", fail, sh.Failed, want)
		}
	}

	var out strings.Builder
	s := newTestSessionOut(t, newHost(), &out)
	sh := &Shell{Session: s, Lines: term.NewPipeReader(strings.NewReader("1\nfmt.Errorf(\"stop\")\n3\n"), &out),
		ErrorValuesFail: true, StopOnError: true}
	if err := sh.Run(context.Background()); !errors.Is(err, ErrErrorValue) {
		t.Errorf("Run = %v, want ErrErrorValue", err)
	}
	if want := "1\n** (error) stop\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

// Shell.Check runs after each snippet; its error is printed, and fails
// the snippet if nothing else did.
func TestShellCheck(t *testing.T) {
	var out strings.Builder
	s := newTestSessionOut(t, newHost(), &out)
	calls := 0
	sh := &Shell{Session: s, Lines: term.NewPipeReader(strings.NewReader("1\nnosuch\n2\n"), &out), StopOnError: true,
		Check: func() error {
			calls++
			if calls == 2 {
				return exitNotice("the shell process <x.3.0> exited: :noconnection; new shell process <x.4.0>")
			}
			return nil
		}}
	sh.Source = "s.gos"
	_ = sh.Run(context.Background())
	// nosuch fails, and the check's notice follows.
	if want := "1\n** (error) s.gos:2: undefined: nosuch\n** (EXIT) s.gos:2: the shell process <x.3.0> exited: :noconnection; new shell process <x.4.0>\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if sh.Failed != 1 {
		t.Errorf("Failed = %d, want 1", sh.Failed)
	}
	out.Reset()
	calls = 0
	sh = &Shell{Session: s, Lines: term.NewPipeReader(strings.NewReader("1\n2\n3\n"), &out), StopOnError: true, Source: "s.gos",
		Check: func() error {
			calls++
			if calls == 2 {
				return exitNotice("the shell process exited")
			}
			return nil
		}}
	_ = sh.Run(context.Background())
	if want := "1\n2\n** (EXIT) s.gos:2: the shell process exited\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

// With Source set, failures name the file and the line: the one the
// error names within a snippet of several lines, else the snippet's first.
func TestShellFileLine(t *testing.T) {
	input := `fmt.Println("a")

x := 1
if x > 0 {
	y := 2
	nosuch(y)
}
func f() {
	x := 1
	alsoNot(x)
}
var (
	a = 1
	b = notHere
)
panic("boom")
1 +
fmt.Errorf("value")
func g() {
`
	var out strings.Builder
	s := newTestSessionOut(t, newHost(), &out)
	sh := &Shell{Session: s, Lines: term.NewPipeReader(strings.NewReader(input), &out), Source: "t.gos"}
	_ = sh.Run(context.Background())
	for _, want := range []string{
		"** (error) t.gos:6: undefined: nosuch\n",
		"** (error) t.gos:10: undefined: alsoNot\n",
		"** (error) t.gos:14: undefined: notHere\n",
		"** (panic) t.gos:16: boom\n",
		"** (error) t.gos:17: ",
		"** (error) t.gos:19: repl: input ended in the middle of a snippet\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
