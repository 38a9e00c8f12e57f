package otp

import (
	"errors"
	"fmt"
	"log"
	"reflect"
	"runtime"

	"github.com/gonode/gonode/proc"
)

// server is the running state of one server process.
type server struct {
	s          Server
	parent     proc.Pid // the linked starter, zero if none
	supervised bool
	state      any
}

// run is the server process's function: Init, the ack, then the loop.
func (sv *server) run(p *proc.Process, arg any, ack chan<- serverAck) {
	acked := false
	defer func() {
		if acked {
			return
		}
		// Init did not return: it panicked, or the process was killed or
		// exited in it. Tell the starter either way.
		r := recover()
		var reason any
		if r != nil {
			reason = proc.NewPanicReason(r)
		} else {
			reason = p.Reason()
		}
		if p.Alive() && !sv.parent.IsZero() {
			_ = p.Unlink(sv.parent)
		}
		ack <- serverAck{err: &proc.ExitError{Pid: p.Pid(), Reason: reason}}
		if p.Alive() {
			p.Exit(reason) // a PanicReason: the node reports the crash
		}
	}()
	state, err := sv.init(p, arg)
	if err != nil {
		if !sv.parent.IsZero() {
			_ = p.Unlink(sv.parent)
		}
		acked = true
		ack <- serverAck{err: err}
		p.Exit(serverReason(err))
	}
	sv.state = state
	running.Store(p.Pid(), struct{}{}) // GetState's check (server_sys.go)
	defer running.Delete(p.Pid())
	acked = true
	ack <- serverAck{}
	for {
		m, err := p.Receive(nil)
		if err != nil {
			return // not reached: a killed goroutine-style process unwinds in Receive
		}
		if stop, reason := sv.handle(p, m); stop {
			sv.stop(p, reason)
		}
	}
}

func (sv *server) init(p *proc.Process, arg any) (any, error) {
	if sv.s.Init == nil {
		return arg, nil
	}
	return sv.s.Init(p, arg)
}

// handle dispatches one message and reports whether the server must stop,
// and with what reason. A panic in a handler becomes a stop with a
// PanicReason, so that Terminate runs before the process exits.
func (sv *server) handle(p *proc.Process, m any) (stop bool, reason any) {
	defer func() {
		if r := recover(); r != nil {
			stop, reason = true, proc.NewPanicReason(r)
		}
	}()
	var err error
	switch m := m.(type) {
	case proc.CallRequest:
		err = sv.call(p, m)
	case ServerCastMsg:
		if sv.s.HandleCast == nil {
			return true, fmt.Errorf("%w: cast %v to server %v", ErrServerNoHandler, m.Msg, p.Pid())
		}
		sv.state, err = sv.s.HandleCast(p, m.Msg, sv.state)
	case serverStopMsg:
		return true, m.reason
	case proc.ExitMsg:
		if !sv.parent.IsZero() && m.From == sv.parent {
			// gen_server: a server trapping exits stops with its
			// parent's reason, whatever it is (normal included).
			return true, m.Reason
		}
		err = sv.info(p, m)
	default:
		err = sv.info(p, m)
	}
	if err != nil {
		return true, serverReason(err)
	}
	return false, nil
}

func (sv *server) call(p *proc.Process, req proc.CallRequest) error {
	if _, ok := req.Request.(sysGetState); ok {
		_ = p.Reply(req, sv.state) // a system message: no handler sees it
		return nil
	}
	if sv.s.HandleCall == nil {
		return fmt.Errorf("%w: call %v to server %v from %v", ErrServerNoHandler, req.Request, p.Pid(), req.From)
	}
	reply, state, err := sv.s.HandleCall(p, req.Request, req, sv.state)
	sv.state = state
	if err != nil {
		var se ServerExit
		if errors.As(err, &se) && reply != ServerNoReply {
			_ = p.Reply(req, reply)
		}
		return err
	}
	if reply != ServerNoReply {
		_ = p.Reply(req, reply)
	}
	return nil
}

func (sv *server) info(p *proc.Process, m any) error {
	if sv.s.HandleInfo == nil {
		log.Printf("[error] server %v received unexpected message: %s", p.Pid(), proc.FormatReason(m))
		return nil
	}
	var err error
	sv.state, err = sv.s.HandleInfo(p, m, sv.state)
	return err
}

// stop runs Terminate and ends the process with reason. An abnormal
// reason of an unsupervised server is reported to the node's crash
// reporter, as GenServer logs "terminating"; a panic is reported by proc
// itself (Exit with a PanicReason), and a supervised server's exit by its
// supervisor.
func (sv *server) stop(p *proc.Process, reason any) {
	if sv.s.Terminate != nil {
		sv.s.Terminate(p, reason, sv.state)
	}
	if _, isPanic := reason.(proc.PanicReason); !isPanic && !sv.supervised && !normalExit(reason) {
		n := p.Node()
		report := proc.CrashReport{Pid: p.Pid(), Label: "server", Function: sv.function(), Reason: reason}
		if info, ok := n.Info(p.Pid()); ok {
			report.Name = info.Name
		}
		// Deferred, so that it runs after the death (Exit unwinds the
		// goroutine), as proc reports panics once links are told.
		defer n.ReportCrash(report)
	}
	p.Exit(reason)
}

// function names the server in crash reports: the first handler it has,
// since the process's own function is this package's closure.
func (sv *server) function() string {
	for _, f := range []any{sv.s.Init, sv.s.HandleCall, sv.s.HandleCast, sv.s.HandleInfo} {
		v := reflect.ValueOf(f)
		if v.IsNil() {
			continue
		}
		if fn := runtime.FuncForPC(v.Pointer()); fn != nil {
			return fn.Name()
		}
	}
	return ""
}

// serverReason is the exit reason for a handler's error: a ServerExit's
// Reason, else the error itself.
func serverReason(err error) any {
	var se ServerExit
	if errors.As(err, &se) {
		return se.Reason
	}
	return err
}
