package pg

import (
	"testing"

	"github.com/gonode/gonode/proc"
)

// removeIn and without are multiset differences: one instance per pid
// listed, whatever the order.
func TestMultisetDifference(t *testing.T) {
	p := func(id uint32) proc.Pid { return proc.Pid{Node: "a@localhost", ID: id} }
	a, b, c := p(1), p(2), p(3)
	for _, tc := range []struct {
		list, remove, rest, removed []proc.Pid
	}{
		{nil, nil, nil, nil},
		{[]proc.Pid{a}, nil, []proc.Pid{a}, nil},
		{[]proc.Pid{a, b, a}, []proc.Pid{a}, []proc.Pid{a, b}, []proc.Pid{a}},
		{[]proc.Pid{a, b, a}, []proc.Pid{c}, []proc.Pid{a, b, a}, nil},
		{[]proc.Pid{a, b, a, c}, []proc.Pid{a, a, a}, []proc.Pid{b, c}, []proc.Pid{a, a}},
		{[]proc.Pid{a, b, c}, []proc.Pid{c, a}, []proc.Pid{b}, []proc.Pid{a, c}},
		{[]proc.Pid{b, b}, []proc.Pid{b, b}, nil, []proc.Pid{b, b}},
	} {
		got := without(tc.list, tc.remove)
		if !sameMembers(got, tc.rest) {
			t.Errorf("without(%v, %v) = %v, want %v", tc.list, tc.remove, got, tc.rest)
		}
		list := append([]proc.Pid(nil), tc.list...)
		rest, removed := removeIn(list, tc.remove)
		if !sameMembers(rest, tc.rest) || !sameMembers(removed, tc.removed) {
			t.Errorf("removeIn(%v, %v) = %v, %v; want %v, %v", tc.list, tc.remove, rest, removed, tc.rest, tc.removed)
		}
	}
}
