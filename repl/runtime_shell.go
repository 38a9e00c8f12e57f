package repl

import (
	"context"
	"fmt"

	"github.com/gonode/gonode/proc"
)

// The shell's own process can die between or during snippets (a linked
// crash, exit(reason)); as iex does, the shell then starts a new one.

// shellProcess returns the shell's process, replacing it first if it died
// (killed through a link, or exit(reason) typed at the prompt), as iex
// starts a new shell process.
func (rt *Runtime) shellProcess() *proc.Process {
	p, notice, err := rt.replaceShell()
	if err != nil {
		fail("the node has stopped: %w", err)
	}
	if notice != "" {
		fmt.Fprintln(rt.errw, FormatError(notice))
	}
	return p
}

// replaceShell returns the shell's process, starting a new one if it died;
// notice then says what happened to the old one.
func (rt *Runtime) replaceShell() (*proc.Process, exitNotice, error) {
	rt.shellMu.Lock()
	defer rt.shellMu.Unlock()
	return rt.replaceShellLocked()
}

func (rt *Runtime) replaceShellLocked() (*proc.Process, exitNotice, error) {
	old := rt.shellP
	if old != nil && old.Alive() {
		return old, "", nil
	}
	p, err := rt.node.Attach(proc.SpawnOptions{Label: "shell"})
	if err != nil {
		return nil, "", err
	}
	rt.shellP = p
	rt.watchShell(p)
	var notice exitNotice
	if old != nil {
		notice = exitNotice(fmt.Sprintf("the shell process %v exited: %s; new shell process %v",
			old.Pid(), proc.FormatReason(old.Reason()), p.Pid()))
	}
	return p, notice, nil
}

// watchShell replaces the shell's process p as soon as it dies between
// snippets (a linked process crashed while the prompt waits), and says so
// above the prompt at once, as iex does. A death during a snippet is left
// to shellExited, which fails that snippet.
func (rt *Runtime) watchShell(p *proc.Process) {
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		select {
		case <-p.Context().Done():
		case <-rt.ctx.Done():
			return
		}
		rt.shellMu.Lock()
		if rt.shellP != p || rt.snippetOpen.Load() || rt.ctx.Err() != nil {
			rt.shellMu.Unlock()
			return
		}
		_, notice, err := rt.replaceShellLocked()
		rt.shellMu.Unlock()
		if err == nil && notice != "" {
			fmt.Fprintln(rt.async, FormatError(notice))
		}
	}()
}

// snippetStarted marks a snippet as running until shellExited checks it:
// a death of the shell's process meanwhile is that snippet's failure.
func (rt *Runtime) snippetStarted() { rt.snippetOpen.Store(true) }

// shellExited is the shell loop's check after each snippet: if the shell's
// process died during it (an exit signal through a link, such as the
// :noconnection of spawnLink to a node that is down), a new one takes its
// place and the snippet counts as failed, as an Elixir script stops when
// its process gets an exit signal.
func (rt *Runtime) shellExited() error {
	rt.shellMu.Lock()
	defer rt.shellMu.Unlock()
	defer rt.snippetOpen.Store(false)
	old := rt.shellP
	if old == nil || old.Alive() {
		return nil
	}
	_, notice, err := rt.replaceShellLocked()
	if err != nil || notice == "" {
		return err
	}
	return notice
}

// exitNotice says that the shell's process exited and was replaced; it
// prints as "** (EXIT) ...".
type exitNotice string

func (e exitNotice) Error() string { return string(e) }

// shellProc is the Proc the shell interpreter acts as.
func (rt *Runtime) shellProc() *Proc { return &Proc{rt: rt, ctx: rt.shellCtx} }

func (rt *Runtime) shellCtx() context.Context {
	if c := rt.evalCtx.Load(); c != nil {
		return *c
	}
	return rt.ctx
}
