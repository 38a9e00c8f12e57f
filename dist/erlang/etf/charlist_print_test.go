package etf

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestCharlistPrint(t *testing.T) {
	for _, c := range []struct {
		in        Charlist
		printable bool
		str       string
	}{
		{"abc", true, `"abc"`},
		{"line\n\ttab", true, `"line\n\ttab"`},
		{"h\u00e9llo", true, `"héllo"`}, // 233: latin1 printable
		{"\x03\x02\x01", false, "[3, 2, 1]"},
		{"ab\x07", false, "[97, 98, 7]"}, // BEL is not printable to io_lib
		{"\x7f", false, "[127]"},
		{"\u0085", false, "[133]"}, // C1 controls are not
		{"", false, "[]"},
	} {
		if got := c.in.Printable(); got != c.printable {
			t.Errorf("Charlist(%q).Printable() = %v, want %v", string(c.in), got, c.printable)
		}
		if got := c.in.String(); got != c.str {
			t.Errorf("Charlist(%q).String() = %s, want %s", string(c.in), got, c.str)
		}
	}
}

// TestCharlistPrintableLikeErl compares Printable, code by code, with
// io_lib:printable_list on a real node.
func TestCharlistPrintableLikeErl(t *testing.T) {
	erl, err := exec.LookPath("erl")
	if err != nil {
		t.Skip("erl is not on PATH: install Erlang/OTP (erlang-base) to compare with io_lib:printable_list")
	}
	out, err := exec.Command(erl, "-noshell", "-eval",
		`io:format("~w~n", [[C || C <- lists:seq(0, 255), io_lib:printable_list([C])]]), halt().`).Output()
	if err != nil {
		t.Fatalf("erl: %v", err)
	}
	want := map[int]bool{}
	for _, f := range strings.FieldsFunc(strings.TrimSpace(string(out)), func(r rune) bool { return r == '[' || r == ']' || r == ',' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("erl printed %q", out)
		}
		want[n] = true
	}
	if len(want) < 100 {
		t.Fatalf("erl printed %q: too few printable codes", out)
	}
	for code := 0; code < 256; code++ {
		if got := Charlist(string(rune(code))).Printable(); got != want[code] {
			t.Errorf("code %d: Printable() = %v, io_lib:printable_list = %v", code, got, want[code])
		}
	}
}
