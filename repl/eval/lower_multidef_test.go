package eval

import (
	"strings"
	"testing"
)

// TestMultiDefineInBlock checks declarations of several variables from a
// call in blocks typed at the prompt (yaegi: "undefined: n").
func TestMultiDefineInBlock(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	runSteps(t, s, []step{
		{src: `r := strings.NewReader("Hello, Reader!")`},
		{src: "b := make([]byte, 8)"},
		{src: "reads := 0"},
		{src: "for {\n\tn, err := r.Read(b)\n\tfmt.Printf(\"%d %v %q|\", n, err, b[:n])\n\treads++\n\tif err == io.EOF {\n\t\tbreak\n\t}\n}"},
		{src: "reads", want: "3"}, // the session's variable, assigned inside
		{src: "if true {\n\tq, ok := strconv.Atoi(\"12\")\n\tfmt.Print(q, ok, \"|\")\n}"},
		{src: "outer:\nfor i := 0; i < 2; i++ {\n\tfor {\n\t\tx, y, _ := strings.Cut(\"a=b\", \"=\")\n\t\tfmt.Print(i, x, y, \"|\")\n\t\tcontinue outer\n\t}\n}"},
	})
	want := "8 <nil> \"Hello, R\"|6 <nil> \"eader!\"|0 EOF \"\"|12 <nil>|0ab|1ab|"
	if got := out.String(); got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
	// A statement with a defer is left as it is.
	if got := lowered(t, s, "for {\n\tn, err := r.Read(b)\n\tdefer fmt.Println(n, err)\n\tbreak\n}"); strings.Contains(got, "(func() {for") {
		t.Errorf("a statement with a defer was wrapped: %q", got)
	}
}
