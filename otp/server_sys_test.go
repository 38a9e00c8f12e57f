package otp_test

import (
	"errors"
	"testing"

	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// sys:get_state: a server answers with its state between two messages,
// without a handler seeing the request; a process that is not a server, a
// dead one and one of another node each give their own error.
func TestGetState(t *testing.T) {
	n, _ := serverNode(t)
	me := serverSelf(t, n)
	calls := 0
	pid, err := otp.StartServer(me, otp.Server{
		HandleCall: func(p *proc.Process, req any, _ proc.CallRequest, state any) (any, any, error) {
			calls++
			return "ok", state.(int) + req.(int), nil
		},
	}, 40, otp.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otp.ServerCall(me, pid, 2, serverWait); err != nil {
		t.Fatal(err)
	}
	if st, err := otp.GetState(me, pid, serverWait); err != nil || st != 42 {
		t.Fatalf("GetState: %v %v, want 42", st, err)
	}
	if calls != 1 {
		t.Errorf("HandleCall ran %d times, want 1: the get_state request reached it", calls)
	}

	plain, _ := n.Spawn(func(p *proc.Process) { _, _ = p.Receive(nil) })
	if _, err := otp.GetState(me, plain, serverWait); !errors.Is(err, otp.ErrNotServer) {
		t.Errorf("GetState of a plain process: %v, want ErrNotServer", err)
	}
	if err := otp.ServerStop(me, pid, proc.Normal, serverWait); err != nil {
		t.Fatal(err)
	}
	if _, err := otp.GetState(me, pid, serverWait); !errors.Is(err, proc.ErrNoProc) {
		t.Errorf("GetState of a stopped server: %v, want noproc", err)
	}
	if _, err := otp.GetState(me, proc.Pid{Node: "other@localhost", ID: 5}, serverWait); err == nil {
		t.Error("GetState of a remote pid: no error")
	}
}
