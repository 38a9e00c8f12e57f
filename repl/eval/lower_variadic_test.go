package eval

import (
	"context"
	"testing"
)

// TestVariadicAnySlice: a []any among the variadic arguments of a shell
// function taking ...any is one argument, as in Go (yaegi spread it).
func TestVariadicAnySlice(t *testing.T) {
	s := newTestSession(t, newHost())
	ctx := context.Background()
	for _, src := range []string{
		"func f(a ...any) int { return len(a) }",
		"func g(s string, a ...interface{}) string { return fmt.Sprint(s, len(a)) }",
	} {
		if _, err := s.Eval(ctx, src); err != nil {
			t.Fatal(err)
		}
	}
	for src, want := range map[string]string{
		"f([]any{1, 2, 3})":                      "1",
		"f([]any{1, 2}, 4)":                      "2",
		"f()":                                    "0",
		"f(nil)":                                 "1",
		"f(1, \"a\")":                            "2",
		"f([]any{1, 2}...)":                      "2",
		"g(\"x\", []any{1, 2})":                  `"x1"`,
		"g(\"z\", f([]any{1, 2}, 3), 2)":         `"z2"`,
		"func() int { return f([]any{1, 2}) }()": "1",
	} {
		res, err := s.Eval(ctx, src)
		if err != nil || res.String() != want {
			t.Errorf("%s = %v, %v; want %s", src, res, err, want)
		}
	}
}
