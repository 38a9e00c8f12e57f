package erlang

import (
	"testing"

	"github.com/gonode/gonode/dist/erlang/etf"
)

// A list of small integers prints as a string only when io_lib's
// printable_list would say so, as erl's ~p prints it.
func TestFormatTermCharlist(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{etf.Charlist("abc"), `"abc"`},
		{etf.Charlist("\x03\x02\x01"), "[3,2,1]"},
		{etf.Tuple{etf.Atom("ok"), etf.Charlist("a\x00")}, "{ok,[97,0]}"},
		{[]any{etf.Charlist("x\n"), "bin"}, `["x\n",<<"bin">>]`},
	} {
		if got := formatTerm(c.in); got != c.want {
			t.Errorf("formatTerm(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}
