package repl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/traefik/yaegi/interp"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
)

// evalReply is remsh.Eval's answer, a map on the wire: the snippet's
// outcome already formatted on the node that ran it, where the values'
// types (a struct declared in its session) are known. The client turns it
// back into what Shell prints (a Result or an error), so that a remote
// snippet prints and fails as a local one does.
type evalReply struct {
	Value    string // what the snippet's value prints as; "" for none
	IsError  bool   // the value is an error ("** (error) ...")
	Failure  string // the snippet failed: "** (kind) text" (FormatError)
	Notice   string // Result.Notice
	Exited   string // the session's shell process died during it: "** (EXIT) ..."
	Quit     bool   // quit() was called: the session is over
	Declared []string
}

func (r evalReply) toWire() map[string]any {
	decl := make([]any, len(r.Declared))
	for i, d := range r.Declared {
		decl[i] = d
	}
	return map[string]any{"value": r.Value, "is_error": r.IsError, "failure": r.Failure,
		"notice": r.Notice, "exited": r.Exited, "quit": r.Quit, "declared": decl}
}

func evalReplyFrom(v any) (evalReply, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return evalReply{}, errors.New("remsh: a malformed answer to remsh.Eval")
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	flag := func(k string) bool { b, _ := m[k].(bool); return b }
	r := evalReply{Value: str("value"), IsError: flag("is_error"), Failure: str("failure"),
		Notice: str("notice"), Exited: str("exited"), Quit: flag("quit")}
	decl, _ := m["declared"].([]any)
	for _, d := range decl {
		if s, ok := d.(string); ok {
			r.Declared = append(r.Declared, s)
		}
	}
	return r, nil
}

// eval runs one snippet of a session, as the local shell loop does around
// Session.Eval: the snippet's context (cancelled by the client's Ctrl-C,
// which cancels the rpc, or by the session's end), v(n) history, and the
// check that its shell process survived.
func (s *RemoteShells) eval(ctx context.Context, ref proc.Ref, src string) (map[string]any, error) {
	rs, err := s.session(ref)
	if err != nil {
		return nil, err
	}
	rs.evalMu.Lock()
	rt := rs.rt
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(rt.ctx, cancel)
	rt.snippetStarted() // a death of its shell process now is this snippet's failure (shellExited)
	rt.evalCtx.Store(&ctx)
	rt.inSnippet.Store(true)
	res, err := rt.session.Eval(ctx, src)
	rt.inSnippet.Store(false)
	rt.evalCtx.Store(nil)
	stop()
	cancel()
	var r evalReply
	select {
	case <-rt.quit:
		r.Quit = true
	default:
	}
	switch {
	case err != nil && r.Quit:
		// The snippet ended the session itself (quit(), node.Halt()): a
		// cancellation that the node's stop brought meanwhile is not its
		// failure.
	case err != nil && rt.ctx.Err() != nil:
		// Ended by the session's end, not by the client's Ctrl-C.
		r.Failure = FormatError(shellError{Err: fmt.Errorf("the remote shell session on %s was closed (the node is stopping)", s.d.Name())})
	case err != nil:
		r.Failure = FormatError(err)
	default:
		rt.record(res)
		r.Value, r.IsError, r.Declared = res.String(), res.IsError(), res.Declared
	}
	if rt.ctx.Err() == nil {
		r.Notice = res.Notice // not "interrupted: shell interpreter rebuilt" for a session that ended
	}
	if cerr := rt.shellExited(); cerr != nil {
		r.Exited = FormatError(cerr)
	}
	rs.evalMu.Unlock()
	if r.Quit {
		s.end(ref, proc.Normal)
	}
	return r.toWire(), nil
}

// remoteText is a value printed on the remote node: it prints as it is.
type remoteText string

func (t remoteText) String() string { return string(t) }

// remoteErrorValue is an error value printed on the remote node
// ("** (error) text"): it prints and counts as an error value.
type remoteErrorValue string

func (e remoteErrorValue) Error() string { return string(e) }

// result turns a reply back into what the local shell prints: a Result,
// or the error the snippet failed with, of the kind FormatError printed.
func (r evalReply) result() (eval.Result, error) {
	res := eval.Result{Notice: r.Notice, Declared: r.Declared}
	if r.Failure != "" {
		return res, failureFrom(r.Failure)
	}
	switch {
	case r.IsError:
		res.Show, res.Values = true, []any{remoteErrorValue(strings.TrimPrefix(r.Value, "** (error) "))}
	case r.Value != "":
		res.Show, res.Values = true, []any{remoteText(r.Value)}
	}
	return res, nil
}

// failureFrom makes an error that FormatError prints as text, which
// FormatError printed on the remote node: one of the kind named in
// "** (kind) ...", so that the shell loop treats it as a local one (an
// unknown kind would print as "** (error) ** (kind) ...": add it here).
func failureFrom(text string) error {
	kind, msg, ok := strings.Cut(strings.TrimPrefix(text, "** ("), ") ")
	if !ok || !strings.HasPrefix(text, "** (") {
		kind, msg = strings.TrimSuffix(strings.TrimPrefix(text, "** ("), ")"), ""
	}
	switch kind {
	case "panic":
		return &eval.PanicError{Value: msg}
	case "EXIT":
		return exitNotice(msg)
	case "exit":
		var reason any = remoteText(msg)
		for _, a := range []proc.Atom{proc.Normal, proc.Shutdown, proc.Killed} {
			if msg == string(a) {
				reason = a // exit(:normal) ends a script with success, here as there
			}
		}
		return shellExit{reason}
	case "interrupted":
		return context.Canceled
	case "timeout":
		return context.DeadlineExceeded
	case "error":
		return shellError{Err: errors.New(msg)}
	}
	return shellError{Err: errors.New(text)}
}

func (s *RemoteShells) complete(ref proc.Ref, line string, pos int) ([]any, error) {
	rs, err := s.session(ref)
	if err != nil {
		return nil, err
	}
	cands, start := rs.rt.session.Complete(line, pos)
	out := make([]any, len(cands))
	for i, c := range cands {
		out[i] = c
	}
	return []any{out, start}, nil
}

// remshWriter sends what a session prints to its client's output process.
// The send waits when the connection's queue is full, so a snippet that
// prints fast is held back by a slow terminal, not buffered without end.
type remshWriter struct {
	node   *proc.Node
	to     proc.Pid
	stream string
}

func (w *remshWriter) Write(b []byte) (int, error) {
	if err := w.node.Send(w.to, []any{remshTag, w.stream, string(b)}); err != nil && !errors.Is(err, proc.ErrNoProc) {
		return 0, err
	}
	return len(b), nil
}

// packages is what an embedding program adds to interpreters, for the
// remote shells' sessions (nil for gonode).
func (em *embedding) packages() interp.Exports {
	if em == nil {
		return nil
	}
	return em.exports
}

// stop cancels the session's snippet and tasks, waits for them and for
// its goroutines, and ends its processes, the shell's with reason.
func (rs *remoteSession) stop(d *dist.Node, reason any) {
	rs.rt.cancel()
	rs.rt.tracing.stopAll() // its traces print to the client, which is gone
	d.MonitorNodes(rs.notices, false, false)
	_ = d.Proc().Exit(rs.notices, proc.Kill)
	rs.evalMu.Lock() // the snippet running, if any, ends: its context is cancelled
	defer rs.evalMu.Unlock()
	rs.rt.wg.Wait()
	rs.rt.shellMu.Lock()
	p := rs.rt.shellP
	rs.rt.shellMu.Unlock()
	if p != nil && p.Alive() {
		p.Exit(reason) // evalMu held: nothing else drives it
	}
	// The idle interpreters the session's spawns gave back hold a
	// goroutine each: stop them. Processes the session spawned live on,
	// as in Erlang unless linked; theirs stop when released.
	rs.rt.session.Close()
}
