package global

import (
	"testing"

	"github.com/gonode/gonode/proc"
)

// FuzzDecode builds tuples from the fuzzer's bytes, a tag then fields of
// every type a peer could send, and checks that decode never panics and
// that what it accepts is well formed.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4})
	f.Add([]byte{1, 5, 1, 3, 3})
	f.Add([]byte{3, 5, 1, 3, 2, 2, 0})
	f.Add([]byte{0, 2, 1, 3, 8, 8, 8})
	tags := []any{tagSync, tagClaim, tagClaimed, tagCommit, tagCommitted, tagAbort, tagUnreg, tagUnregd, proc.Atom("x"), "global_claim", nil}
	pid := proc.Pid{Node: "b@localhost", ID: 7, Serial: 0, Creation: 1}
	ref := proc.Ref{Node: "b@localhost", Creation: 1, ID: [3]uint32{1, 2, 3}}
	values := []any{
		nil, "", "n", "b@localhost", int64(1), int64(-1), 1, 3.5, true, pid, proc.Pid{}, ref, proc.Ref{},
		statusOK, statusBusy, []any{}, []any{[]any{"n", pid, int64(1), int64(0)}}, []any{[]any{"n"}}, []any{"x"},
		map[string]any{"a": 1}, []byte("x"), Resolve(1),
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		tuple := []any{tags[int(b[0])%len(tags)]}
		for _, c := range b[1:] {
			tuple = append(tuple, values[int(c)%len(values)])
		}
		m, err := decode(tuple)
		if err != nil {
			return
		}
		switch m.tag {
		case tagClaim, tagCommit, tagAbort, tagUnreg:
			if m.name == "" {
				t.Fatalf("accepted %v with an empty name", tuple)
			}
		}
		if m.tag == tagClaim && (m.pid.IsZero() || m.from.IsZero() || m.ref.IsZero()) {
			t.Fatalf("accepted a claim with a zero field: %v", tuple)
		}
		for name, e := range m.entries {
			if name == "" || e.pid.IsZero() {
				t.Fatalf("accepted a sync entry %q %v", name, e.pid)
			}
		}
	})
}
