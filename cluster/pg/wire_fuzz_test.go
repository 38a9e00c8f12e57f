package pg

import (
	"testing"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// FuzzParse: whatever a peer's frame decodes to, parse returns a message
// or an error and never panics; what it accepts is a scope message whose
// every member is of the sender's node. Seeds: the encoded protocol
// messages.
func FuzzParse(f *testing.F) {
	codec := dist.NewNativeCodec()
	from := proc.Pid{Node: "b@localhost", ID: 7, Creation: 1}
	member := proc.Pid{Node: "b@localhost", ID: 9, Creation: 1}
	for _, payload := range []any{
		discoverMsg(from),
		joinMsg(from, "g", []proc.Pid{member, member}),
		leaveMsg(from, "g", []proc.Pid{member}),
		syncMsg(from, map[string][]proc.Pid{"g": {member}, "h": {member, member}}),
		[]any{tagJoin, from, "g", []any{proc.Pid{Node: "c@localhost", ID: 1}}},
		42,
	} {
		frame, err := codec.Encode(nil, &dist.Message{Kind: dist.KindRegSend, From: from, To: proc.Pid{Node: "a@localhost"}, ToName: "test", Payload: payload})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := codec.Decode(frame)
		if err != nil {
			return
		}
		pm, err := parse(m.Payload)
		if err != nil {
			return
		}
		check := func(pids []proc.Pid) {
			for _, p := range pids {
				if p.Node != pm.from.Node {
					t.Fatalf("accepted %v from %v: %+v", p, pm.from, pm)
				}
			}
		}
		check(pm.pids)
		for _, pids := range pm.groups {
			check(pids)
		}
	})
}
