package repl

import (
	"context"
	"errors"
	"fmt"
	"go/token"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/repl/eval"
)

// Hot code upgrade: push() sends the shell's declarations to every
// connected node and switches them all, or none. Phase 1 asks each node's
// code loader to check the code against its own declarations and stage it
// (eval.Session.PrepareCode); only when every node has staged it does
// phase 2 tell each to install it (InstallCode), with one version number,
// the highest any of them had plus one. A refusal or a node that does not
// answer in phase 1 aborts the push everywhere.
//
// The loader is four functions in the node's function table, reached by
// the ordinary rpc, with no message of its own on the wire; the pushing
// node reaches its own loader the same way. A node's --rpc-allow decides
// whether peers may push to it, as for any rpc: pushed code runs there, so
// only a pattern matching "gonode.code.prepare" (and .commit, .abort, or
// "gonode.code.*") lets them.
//
// A node stages one push at a time: a second prepare meanwhile is refused
// (ErrPushBusy), so concurrent pushes cannot interleave their switches.
// A staged push that gets neither commit nor abort (its pusher died
// between the phases) expires after the time the pusher gave; the loader
// checks lazily, at the next prepare or commit, so it needs no timer.
const (
	codePrepare   = "gonode.code.prepare"
	codeCommit    = "gonode.code.commit"
	codeAbort     = "gonode.code.abort"
	codeVersionFn = "gonode.code.version"
)

// pushTimeout bounds each phase of a push when the caller gives no
// timeout.
const pushTimeout = 5 * time.Second

var (
	// ErrPushRefused is push's error when a node refused the code or did
	// not answer in phase 1: no node switched.
	ErrPushRefused = errors.New("push refused")
	// ErrPushBusy is a loader's refusal while another push is staged.
	ErrPushBusy = errors.New("another push is staged here")
	// errNotStaged is a commit's error for a push this node does not hold
	// (aborted, expired, or never prepared).
	errNotStaged = errors.New("no such push staged here")
)

// codeLoader serves the pushes to one node, into its shell's session. Its
// methods are safe for concurrent use.
type codeLoader struct {
	session *eval.Session

	mu      sync.Mutex
	version int64       // guarded by mu: the version of the last push installed; 0 before any
	staged  *stagedPush // guarded by mu: the push between its phases, if any
}

type stagedPush struct {
	id, from string
	code     *eval.StagedCode // nil while the check runs
	deadline time.Time        // after it, the push has expired
}

// startCodeLoader registers the loader of session in funcs, the node's
// function table.
func startCodeLoader(session *eval.Session, funcs *dist.Funcs) (*codeLoader, error) {
	l := &codeLoader{session: session}
	for name, fn := range map[string]any{
		codePrepare: l.prepare, codeCommit: l.commit, codeAbort: l.abort, codeVersionFn: l.currentVersion,
	} {
		if err := funcs.Register(name, fn); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// prepare checks and stages push id from node from, to expire after
// ttlMillis unless committed; it returns this node's current version.
func (l *codeLoader) prepare(ctx context.Context, from, id, src string, vars []string, ttlMillis int64) (int64, error) {
	st := &stagedPush{id: id, from: from, deadline: time.Now().Add(time.Duration(ttlMillis) * time.Millisecond)}
	l.mu.Lock()
	if o := l.staged; o != nil && time.Now().Before(o.deadline) {
		l.mu.Unlock()
		return 0, fmt.Errorf("%w: push %s from %s; try again once it is done", ErrPushBusy, o.id, o.from)
	}
	l.staged = st // the slot is taken while the code is checked
	l.mu.Unlock()
	code, err := l.session.PrepareCode(ctx, src, vars)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.staged != st {
		return 0, fmt.Errorf("push %s was aborted while it was checked", id)
	}
	if err != nil {
		l.staged = nil
		return 0, err
	}
	st.code = code
	return l.version, nil
}

// commit installs staged push id as version.
func (l *codeLoader) commit(id string, version int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.staged
	if st == nil || st.id != id || st.code == nil {
		return fmt.Errorf("%w: %s", errNotStaged, id)
	}
	l.staged = nil
	if !time.Now().Before(st.deadline) {
		return fmt.Errorf("%w: %s expired before its commit", errNotStaged, id)
	}
	l.session.InstallCode(st.code)
	l.version = version
	return nil
}

// abort drops push id if staged; it reports whether it was.
func (l *codeLoader) abort(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.staged == nil || l.staged.id != id {
		return false
	}
	l.staged = nil
	return true
}

func (l *codeLoader) currentVersion() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.version
}

// PushReport says what a push did: the version it installed and the nodes
// that took it. Unconfirmed lists nodes that staged the code but did not
// confirm its commit (they went down between the phases, or the answer
// was lost): they run the new code only if the commit reached them, which
// codeVersion(node) tells.
type PushReport struct {
	Version     int64
	Took        []string          // sorted
	Unconfirmed map[string]string // node -> why; nil if none
}

// PushRefusal is push's error when phase 1 failed: which nodes refused
// and why. No node switched. It wraps ErrPushRefused.
type PushRefusal struct {
	Refused map[string]string // node -> why
}

// pushHook, if set (by tests), runs between the two phases of a push.
var pushHook func()

// Push sends this runtime's shell declarations to nodes (every connected
// node if none) and to this node, in two phases (see above), each bounded
// by timeout (pushTimeout if 0) and by ctx. A refusal in phase 1 is a
// *PushRefusal; otherwise the report says which nodes took the code.
func (rt *Runtime) Push(ctx context.Context, timeout time.Duration, nodes ...string) (*PushReport, error) {
	if rt.dist == nil {
		return nil, errNoNode
	}
	if timeout <= 0 {
		timeout = pushTimeout
	}
	src, vars := rt.session.Declarations()
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("nothing to push: declare functions or types in the shell first")
	}
	self := rt.dist.Name()
	if len(nodes) == 0 {
		nodes = rt.dist.Nodes()
	}
	targets := dedupe(append([]string{self}, nodes...))
	id := fmt.Sprintf("%s/%d", self, time.Now().UnixNano())
	ttl := (2*timeout + time.Second).Milliseconds() // both phases, and a margin for the clocks' tick

	versions := make([]int64, len(targets))
	errs := rt.onEach(ctx, timeout, targets, func(ctx context.Context, i int, node string) error {
		v, err := rt.dist.RPC(ctx, node, codePrepare, self, id, src, vars, ttl)
		if err == nil {
			versions[i], err = wireInt(v)
		}
		return err
	})
	refused := map[string]string{}
	for i, err := range errs {
		if err != nil {
			refused[targets[i]] = reason(err)
		}
	}
	if len(refused) > 0 {
		// Abort where it may be staged: on the nodes that staged it, and
		// on those that did not answer in time (a slow node may stage it
		// yet). A node that cannot be told lets it expire.
		var staged []string
		for i, err := range errs {
			if err == nil || errors.Is(err, context.DeadlineExceeded) {
				staged = append(staged, targets[i])
			}
		}
		rt.onEach(context.WithoutCancel(ctx), timeout, staged, func(ctx context.Context, _ int, node string) error {
			_, err := rt.dist.RPC(ctx, node, codeAbort, id)
			return err
		})
		return nil, &PushRefusal{Refused: refused}
	}
	if pushHook != nil {
		pushHook()
	}
	version := int64(0)
	for _, v := range versions {
		version = max(version, v)
	}
	version++
	// Once every node staged it, the push goes on even if ctx ends: a
	// half-sent commit is what all-or-none must avoid.
	errs = rt.onEach(context.WithoutCancel(ctx), timeout, targets, func(ctx context.Context, _ int, node string) error {
		_, err := rt.dist.RPC(ctx, node, codeCommit, id, version)
		return err
	})
	rep := &PushReport{Version: version, Took: []string{}}
	for i, err := range errs {
		if err == nil {
			rep.Took = append(rep.Took, targets[i])
			continue
		}
		if rep.Unconfirmed == nil {
			rep.Unconfirmed = map[string]string{}
		}
		rep.Unconfirmed[targets[i]] = reason(err)
	}
	sort.Strings(rep.Took)
	return rep, nil
}

// CodeVersion returns the version of the last push installed on node (0
// before any).
func (rt *Runtime) CodeVersion(ctx context.Context, node string) (int64, error) {
	if rt.dist == nil {
		return 0, errNoNode
	}
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	v, err := rt.dist.RPC(ctx, node, codeVersionFn)
	if err != nil {
		return 0, err
	}
	return wireInt(v)
}

// onEach runs f for every node at once, each bounded by timeout, and
// waits for them all; errs[i] is node i's.
func (rt *Runtime) onEach(ctx context.Context, timeout time.Duration, nodes []string, f func(context.Context, int, string) error) []error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(ctx, i, n)
		}()
	}
	wg.Wait()
	return errs
}

// reason is an error as a peer's refusal reads best: a remote error's
// message without the "remote error:" prefix.
func reason(err error) string {
	var re *dist.RemoteError
	if errors.As(err, &re) && re.Message != "" {
		return re.Message
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time: " + err.Error()
	}
	return err.Error()
}

// wireInt reads a version that crossed the wire.
func wireInt(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case uint64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("a code version, not %T", v)
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// latestBundle is what a supervisor's child spec starts (childStarter):
// for a child of a declared function (child("w", Worker)), that function
// as the session's declarations stand now, so that a restart after a push
// or a redefinition runs the new code, as Erlang's {M, F, A} child spec
// calls M:F afresh at each restart; the variables keep the values they had
// when the spec was made. A function literal keeps the code it was made
// with, as does a function no longer declared.
func (rt *Runtime) latestBundle(spec eval.Bundle) eval.Bundle {
	if !token.IsIdentifier(spec.Func) {
		return spec
	}
	b, err := rt.session.Bundle(spec.Func)
	if err != nil {
		return spec
	}
	kept := map[string]eval.Capture{}
	for _, c := range spec.Captures {
		kept[c.Name] = c
	}
	for i, c := range b.Captures {
		if k, ok := kept[c.Name]; ok {
			b.Captures[i] = k
		}
	}
	return b
}
