package proc

import (
	"errors"
	"math"
	"testing"
)

// Printed pids are typed by people in the shell and cross process
// boundaries as text, so print and parse must be each other's inverse:
//
//   - for any valid pid p, ParsePid(p.String()) is p with Creation zeroed;
//   - ParsePid never panics, and every error it returns is ErrBadPid;
//   - any string ParsePid accepts prints back to itself.
//
// Run longer with: go test -run '^$' -fuzz '^FuzzParsePid$' -fuzztime 30s ./proc/
// (and the same for FuzzPidRoundTrip).

var pidSeeds = []string{
	"<node1@localhost.42.0>",
	"<a@b.0.0>",
	"<a@b.4294967295.4294967295>",
	"<gonode@10.0.0.1.7.3>",    // dots in the host part
	"<n@host.example.com.1.2>", // long name
	"<a@b..1.2>",               // the node name ends with a dot
	"<a@b.01.2>",               // leading zero
	"<a@b.1.+2>",
	"<a@b.-1.2>",
	"<a@b.4294967296.0>", // one past uint32
	"<a@b.1.2",
	"a@b.1.2>",
	"<a@b@c.1.2>",
	"<@b.1.2>",
	"<a@.1.2>",
	"<a b@c.1.2>",
	"<a@b.1_0.2>",
	"<a@b.0x1.2>",
	"<undefined>",
	"<>",
	"<.>",
	"<..>",
	"<a@b.1.2.>",
	"<\xff@\xfe.1.2>", // not UTF-8
	"",
}

// FuzzParsePid feeds arbitrary text to ParsePid.
func FuzzParsePid(f *testing.F) {
	for _, s := range pidSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePid(s)
		if err != nil {
			if !errors.Is(err, ErrBadPid) {
				t.Fatalf("ParsePid(%q): error %v is not ErrBadPid", s, err)
			}
			if p != (Pid{}) {
				t.Fatalf("ParsePid(%q) failed but returned %#v", s, p)
			}
			return
		}
		if p.Creation != 0 {
			t.Fatalf("ParsePid(%q) = %#v: creation must be 0", s, p)
		}
		if !ValidNodeName(p.Node) {
			t.Fatalf("ParsePid(%q) accepted the node name %q", s, p.Node)
		}
		if got := p.String(); got != s {
			t.Fatalf("ParsePid(%q) = %#v, which prints as %q", s, p, got)
		}
	})
}

// FuzzPidRoundTrip prints arbitrary pids and parses them back.
func FuzzPidRoundTrip(f *testing.F) {
	f.Add("node1@localhost", uint32(42), uint32(0), uint32(7))
	f.Add("a@b", uint32(0), uint32(0), uint32(0))
	f.Add("a@b.", uint32(1), uint32(2), uint32(3))
	f.Add("gonode@10.0.0.1", uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32))
	f.Add("a@b.5", uint32(1), uint32(2), uint32(1))
	f.Add("\xff@\xfe", uint32(9), uint32(9), uint32(9))
	f.Add("a b@c", uint32(1), uint32(1), uint32(1)) // invalid: skipped
	f.Fuzz(func(t *testing.T, node string, id, serial, creation uint32) {
		if !ValidNodeName(node) {
			return
		}
		p := Pid{Node: node, ID: id, Serial: serial, Creation: creation}
		s := p.String()
		got, err := ParsePid(s)
		if err != nil {
			t.Fatalf("ParsePid(%q) of %#v: %v", s, p, err)
		}
		if want := (Pid{Node: node, ID: id, Serial: serial}); got != want {
			t.Fatalf("ParsePid(%q) = %#v, want %#v", s, got, want)
		}
	})
}

func TestParsePidValid(t *testing.T) {
	cases := []struct {
		in   string
		want Pid
	}{
		{"<node1@localhost.42.0>", Pid{Node: "node1@localhost", ID: 42}},
		{"<gonode@10.0.0.1.7.3>", Pid{Node: "gonode@10.0.0.1", ID: 7, Serial: 3}},
		{"<a@b.4294967295.4294967295>", Pid{Node: "a@b", ID: math.MaxUint32, Serial: math.MaxUint32}},
		{"<a@b..1.2>", Pid{Node: "a@b.", ID: 1, Serial: 2}},
	}
	for _, c := range cases {
		got, err := ParsePid(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParsePid(%q) = %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
}

func TestParsePidMalformed(t *testing.T) {
	for _, s := range []string{
		"",
		"<",
		">",
		"<>",
		"<.>",
		"<..>",
		"<undefined>",
		"a@b.1.2",            // no brackets
		"<a@b.1.2",           // no closing bracket
		"a@b.1.2>",           // no opening bracket
		" <a@b.1.2>",         // leading space
		"<a@b.1.2> ",         // trailing space
		"<a@b>",              // no id or serial
		"<a@b.1>",            // no serial
		"<a@b.1.2.>",         // empty serial
		"<a@b..2>",           // empty id
		"<.1.2>",             // no node
		"<ab.1.2>",           // no @
		"<@b.1.2>",           // empty name part
		"<a@.1.2>",           // empty host part
		"<a@b@c.1.2>",        // two @
		"<a b@c.1.2>",        // space in the node name
		"<a\t@b.1.2>",        // control character
		"<a\x7f@b.1.2>",      // DEL
		"<a<@b.1.2>",         // bracket inside
		"<a>@b.1.2>",         // bracket inside
		"<a@b.01.2>",         // leading zero in the id
		"<a@b.1.00>",         // leading zero in the serial
		"<a@b.+1.2>",         // sign
		"<a@b.1.-2>",         // sign
		"<a@b.0x1.2>",        // hex
		"<a@b.1_0.2>",        // digit separator
		"<a@b. 1.2>",         // space in the number
		"<a@b.1.2 >",         // space in the number
		"<a@b.4294967296.0>", // one past uint32
		"<a@b.0.99999999999999999999>",
		"#Ref<a@b.1.2.3>",
	} {
		p, err := ParsePid(s)
		if !errors.Is(err, ErrBadPid) {
			t.Errorf("ParsePid(%q) = %#v, %v; want ErrBadPid", s, p, err)
		}
	}
}
