package eval

import (
	"context"
	"testing"
)

// TestShellStructTypeNames checks that values of struct types declared in
// the shell print with their type name, as iex prints %P{...}, also inside
// other values and when the type was declared in an earlier snippet.
func TestShellStructTypeNames(t *testing.T) {
	s := newTestSession(t, newHost())
	steps := []struct{ src, want string }{
		{`type P struct { Name string; age int }`, ``},
		{`P{Name: "ann"}`, `%P{Name: "ann", age: 0}`},
		{`&P{Name: "bob"}`, `&%P{Name: "bob", age: 0}`},
		{`type Q struct { P P; Ps []*P; M map[string]P; Any any }; Q{P: P{Name: "a"}, Ps: []*P{{Name: "b"}}, M: map[string]P{"k": {Name: "c"}}, Any: P{Name: "d"}}`,
			`%Q{P: %P{Name: "a", age: 0}, Ps: [&%P{Name: "b", age: 0}], M: %{"k" => %P{Name: "c", age: 0}}, Any: %P{Name: "d", age: 0}}`},
		{`func mk() (P, error) { return P{Name: "m"}, nil }`, ``},
		{`mk()`, `(%P{Name: "m", age: 0}, nil)`},
		{`[]any{P{}, 1}`, `[%P{Name: "", age: 0}, 1]`},
		// Two types with the same fields share one reflect type: neither is named.
		{`type A struct { X int }; type B struct { X int }; A{X: 1}`, `%{X: 1}`},
		{`struct{ N int }{N: 2}`, `%{N: 2}`},
	}
	for _, st := range steps {
		res, err := s.Eval(context.Background(), st.src)
		if err != nil {
			t.Fatalf("%s: %v", st.src, err)
		}
		if got := res.String(); got != st.want {
			t.Errorf("%s\n got %s\nwant %s", st.src, got, st.want)
		}
	}
}
