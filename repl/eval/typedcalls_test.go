package eval

import (
	"context"
	"testing"
)

// x := as[T](v) and var x = as[T](v) at the prompt declare an x of type T
// (yaegi alone fails with "constant definition loop").
func TestTypedCalls(t *testing.T) {
	s, err := NewSession(Options{
		Prelude:    "func as[T any](v any) T { var z T; var w any = v; z = w.(T); return z }", // the shell's form: with v.(T) returned directly, yaegi v0.16.1 gives a zero T to the second statement of a snippet
		TypedCalls: map[string]bool{"as": true},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, step := range []struct{ src, want string }{
		{"var a any = 5", ""},
		{"n := as[int](a)", ""},
		{"n + 1", "6"},
		{"var m = as[int](a)", ""},
		{"m * 2", "10"},
		{"k := 1; f := as[float64](2.5)", ""},
		{"f * 2", "5.0"},
	} {
		res, err := s.Eval(ctx, step.src)
		if err != nil {
			t.Fatalf("%s: %v", step.src, err)
		}
		if got := res.String(); got != step.want {
			t.Errorf("%s = %q, want %q", step.src, got, step.want)
		}
	}
}
