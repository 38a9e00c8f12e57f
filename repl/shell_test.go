package repl

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gonode/gonode/repl/eval"
	"github.com/gonode/gonode/repl/term"
)

func TestShellPiped(t *testing.T) {
	tests := []struct {
		name  string
		input string
		stop  bool
		want  string
		err   error
	}{
		{
			name: "iex style: errors printed, the loop goes on",
			input: `x := 20
func add(a, b int) int {
	return a + b
}
add(x, 22)
undefinedName
xs := []string{
	"a",
	"b",
}
xs
fmt.Println("printed by the snippet")
`,
			want: "42\n** (error) undefined: undefinedName\n[\"a\", \"b\"]\nprinted by the snippet\n",
		},
		{
			name:  "script style: stop at the first error",
			input: "1 + 1\npanic(\"boom\")\n3\n",
			stop:  true,
			want:  "2\n** (panic) boom\n",
			err:   &eval.PanicError{},
		},
		{
			name:  "input ends inside a snippet",
			input: "func f() {\n",
			stop:  true,
			want:  "** (error) repl: input ended in the middle of a snippet\n",
			err:   ErrUnfinished,
		},
		{
			name:  "blank lines and comments print nothing",
			input: "\n// nothing\n\n",
			want:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			s := newTestSessionOut(t, newHost(), &out) // what snippets print goes to the same place
			sh := &Shell{Session: s, Lines: term.NewPipeReader(strings.NewReader(tt.input), &out), StopOnError: tt.stop}
			err := sh.Run(context.Background())
			var pe *eval.PanicError
			switch {
			case tt.err == nil && err != nil,
				errors.As(tt.err, &pe) && !errors.As(err, &pe),
				tt.err == ErrUnfinished && !errors.Is(err, ErrUnfinished):
				t.Errorf("Run = %v, want %v", err, tt.err)
			}
			if out.String() != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", out.String(), tt.want)
			}
		})
	}
}

func TestShellInterrupt(t *testing.T) {
	h := newHost()
	s := newTestSession(t, h)
	var out strings.Builder
	interrupts := make(chan struct{})
	go func() {
		<-h.started
		interrupts <- struct{}{}
	}()
	sh := &Shell{
		Session:    s,
		Lines:      term.NewPipeReader(strings.NewReader("n := 1\nfor { Started(); for { n++ } }\nn > 0\n"), &out),
		Interrupts: interrupts,
	}
	if err := sh.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "** (interrupted)\n** (interrupted: shell interpreter rebuilt)\ntrue\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

func TestShellPrompts(t *testing.T) {
	var prompts []string
	lr := &recordingReader{LineReader: term.NewPipeReader(strings.NewReader("1\nfunc f() {\n}\n\n2\n"), &strings.Builder{}), prompts: &prompts}
	sh := &Shell{Session: newTestSession(t, newHost()), Lines: lr}
	if err := sh.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "gonode(1)> |gonode(2)> |...(2)> |gonode(3)> |gonode(3)> |gonode(4)> "
	if got := strings.Join(prompts, "|"); got != want {
		t.Errorf("prompts %q, want %q", got, want)
	}
}

type recordingReader struct {
	term.LineReader
	prompts *[]string
}

func (r *recordingReader) SetPrompt(p string) { *r.prompts = append(*r.prompts, p) }
