package eval

import "fmt"

// HostError is the failure of a host function that interpreted code calls
// (a shell helper, a refused escape path): the function panics with it,
// which ends the snippet, or the process, with "** (error) message"
// rather than as a panic of the user's code.
type HostError struct{ Err error }

func (e HostError) Error() string { return e.Err.Error() }
func (e HostError) Unwrap() error { return e.Err }

// Fail panics with a HostError made as fmt.Errorf does: called by a host
// function, it fails the snippet or process that called it.
func Fail(format string, args ...any) {
	panic(HostError{fmt.Errorf(format, args...)})
}
