package eval

import (
	"io"
	"testing"
)

// Assign binds a package-level variable of a pooled interpreter before a
// call (a worker's __self): after the first Assign, which makes the
// setter, later ones set yaegi's storage of the variable directly. Each
// call must see the value assigned last, through a function declared
// before the assignments, in the same interpreter.
func TestAssignSeenByEachCall(t *testing.T) {
	s := poolSession(t, newHost())
	runSteps(t, s, []step{
		{src: "var Who int"},
		{src: "func Get() int { return Who }"},
	})
	ctx := callCtx(t)
	var first *Interp
	for i := 1; i <= 5; i++ {
		f, err := s.ResolveTo(ctx, "Get", io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		in := f.Interp()
		if first == nil {
			first = in
		} else if in != first {
			t.Fatalf("call %d ran in another interpreter: the test needs the pooled one", i)
		}
		if err := in.Assign("Who", i*10); err != nil {
			t.Fatal(err)
		}
		out, err := f.Call(ctx)
		f.Release()
		if err != nil || len(out) != 1 || out[0] != i*10 {
			t.Fatalf("call %d after Assign(Who, %d): %v, %v", i, i*10, out, err)
		}
	}
	if a := first.fast.assigns["Who"]; a == nil || !a.direct.IsValid() {
		t.Errorf("Assign of an int variable took the interpreted setter every time")
	}
}
