package repl

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gonode/gonode/repl/eval"
)

func TestFormatError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("undefined: x"), "** (error) undefined: x"},
		{&eval.PanicError{Value: "oops"}, "** (panic) oops"},
		{&eval.PanicError{Value: errors.New("runtime error: index out of range")}, "** (panic) runtime error: index out of range"},
		{&eval.PanicError{Value: 42}, "** (panic) 42"},
		{context.Canceled, "** (interrupted)"},
		{fmt.Errorf("eval: %w", context.DeadlineExceeded), "** (timeout)"},
	}
	for _, tt := range tests {
		if got := FormatError(tt.err); got != tt.want {
			t.Errorf("FormatError(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
