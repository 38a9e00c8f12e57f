package eval

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Pushed code is checked against the receiving session without changing
// it, refused with a reason that names what is wrong, and once installed
// is what calls by name and the shell run.
func TestPrepareAndInstallCode(t *testing.T) {
	ctx := context.Background()
	from := newTestSession(t, newHost())
	to := newTestSession(t, newHost())
	for _, src := range []string{`func Greet() string { return "v1" }`, `func Banner() string { return "** " + Greet() }`, `count := 3`} {
		if _, err := to.Eval(ctx, src); err != nil {
			t.Fatal(err)
		}
	}

	refused := func(src string, vars []string, want string) {
		t.Helper()
		_, err := to.PrepareCode(ctx, src, vars)
		if !errors.Is(err, ErrPushRejected) || !strings.Contains(err.Error(), want) {
			t.Fatalf("PrepareCode(%q): %v, want a refusal saying %q", src, err, want)
		}
	}
	refused(`x := 1`, nil, "it holds statements")
	refused(`var x = 1`, nil, "it declares variables (x)")
	refused(`func Greet() int { return 1 }`, nil, "Banner (this node's): ")
	refused(`func Broken() int { return "s" }`, nil, "Broken (pushed): ")
	refused(`func Total() int { return total }`, []string{"total"}, "it uses the variable total, which this node has not declared")
	if got, err := to.Call(ctx, "Greet"); err != nil || got[0] != "v1" {
		t.Fatalf("after refusals, Greet() = %v, %v; want v1", got, err)
	}

	// The pushing session's declarations, with the variable it uses.
	for _, src := range []string{`func Greet() string { return "v2" }`, `count := 10`, `func Count() int { return count }`} {
		if _, err := from.Eval(ctx, src); err != nil {
			t.Fatal(err)
		}
	}
	src, vars := from.Declarations()
	if len(vars) != 1 || vars[0] != "count" || strings.Contains(src, "count :=") {
		t.Fatalf("Declarations() = %q, %v", src, vars)
	}
	staged, err := to.PrepareCode(ctx, src, vars)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := to.Call(ctx, "Greet"); got[0] != "v1" {
		t.Fatalf("staged code ran before its install: Greet() = %v", got)
	}
	to.InstallCode(staged)
	for name, want := range map[string]any{"Greet": "v2", "Banner": "** v2", "Count": 3} {
		if got, err := to.Call(ctx, name); err != nil || got[0] != want {
			t.Fatalf("%s() = %v, %v; want %v", name, got, err, want)
		}
	}
	res, err := to.Eval(ctx, `Banner()`)
	if err != nil || res.String() != `"** v2"` {
		t.Fatalf("the shell after the install: %s, %v", res.String(), err)
	}
}
