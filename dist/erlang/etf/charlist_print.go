package etf

import (
	"strconv"
	"strings"
)

// Printable reports whether Erlang prints c as a string rather than as a
// list of integers: it is not empty and every code is one that
// io_lib:printable_list accepts under erl's default (+pc latin1): \b \t
// \n \v \f \r, \e, space to ~, and 160 to 255. [3,2,1] is not printable;
// "abc\n" is. erl's ~p and Elixir's inspect choose by this (Elixir by
// ASCII alone).
func (c Charlist) Printable() bool {
	if c == "" {
		return false
	}
	for _, r := range string(c) {
		if !printableCode(r) {
			return false
		}
	}
	return true
}

func printableCode(r rune) bool {
	return r >= 8 && r <= 13 || r == 27 || r >= 32 && r <= 126 || r >= 160 && r <= 255
}

// String prints c as gonode's shell shows values: quoted when it is
// Printable ("abc"), else as the list of its codes ([3, 2, 1]), so that
// a list of small integers from a BEAM node does not read as text.
func (c Charlist) String() string {
	if c.Printable() {
		return strconv.Quote(string(c))
	}
	return "[" + strings.Join(c.Codes(), ", ") + "]"
}

// Codes returns c's codes in decimal, for printing it as a list of
// integers.
func (c Charlist) Codes() []string {
	out := make([]string, 0, len(c))
	for _, r := range string(c) {
		out = append(out, strconv.Itoa(int(r)))
	}
	return out
}
