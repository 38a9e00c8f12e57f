package eval

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A send or receive at the prompt on a channel that nothing else holds,
// which cannot go on at once, fails as Go's deadlock instead of hanging.
func TestDeadlockAtThePrompt(t *testing.T) {
	ctx := context.Background()
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	deadlock := func(src string, isNil bool) {
		t.Helper()
		_, err := s.Eval(ctx, src)
		var de *DeadlockError
		if !errors.As(err, &de) || de.Nil != isNil || !strings.Contains(err.Error(), "all goroutines are asleep - deadlock!") {
			t.Fatalf("%s: error %v, want a deadlock (nil channel %v)", src, err, isNil)
		}
	}
	evalAll(t, s, `ch := make(chan int)`)
	deadlock(`ch <- 1`, false)
	evalAll(t, s, `b := make(chan int, 1)`, `b <- 1`, `<-b; fmt.Print("received;")`, `for i := 0; i < 1; i++ { b <- i }`)
	deadlock(`b <- 2`, false)
	evalAll(t, s, `<-b`, `close(b)`, `<-b; fmt.Print("closed")`)
	deadlock(`var n chan int; n <- 1`, true)
	if got := out.String(); got != "received;closed" {
		t.Fatalf("printed %q", got)
	}
}

// A channel a session function, a func literal or another variable was
// given is no longer watched: something else may use it.
func TestDeadlockOnlyForChannelsNothingElseHolds(t *testing.T) {
	s := newTestSession(t, newHost())
	evalAll(t, s, `c := make(chan int)`, `func feed() { c <- 1 }`,
		`d := make(chan int)`, `e := d`,
		`f := make(chan int)`, `g := func() { <-f }`,
		`h := make(chan int)`, `_ = len(h)`)
	// In order: rewriting an input updates what is watched, and the func
	// literal lets h go.
	for _, tt := range []struct {
		src     string
		watched bool
	}{
		{`c <- 2`, false}, {`d <- 1`, false}, {`e <- 1`, false}, {`f <- 1`, false},
		{`h <- 1`, true}, {`x := 1; h <- x`, true}, {`func() { h <- 1 }()`, false}, {`h <- 1`, false},
	} {
		if got := strings.Contains(rewritten(t, s.shell, tt.src), "Deadlock"); got != tt.watched {
			t.Errorf("%s: watched %v, want %v", tt.src, got, tt.watched)
		}
	}
}
