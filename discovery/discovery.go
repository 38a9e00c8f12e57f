package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// Strategy finds the nodes of a cluster.
//
// Run reports, through found, the complete set of node names (name@host)
// the strategy sees now, each time that set changes, until ctx ends; it
// then returns nil. A strategy that cannot run at all returns an error at
// once. found never blocks for long and is not called after Run returns.
//
// A strategy holding resources beyond Run (a gossip member's sockets)
// also implements io.Closer; whoever started it closes it after Run has
// returned.
type Strategy interface {
	Run(ctx context.Context, found func(nodes []string)) error
}

// MaxNameLen is the longest node name a strategy reports; dist refuses
// longer ones too (wire.MaxNameLen).
const MaxNameLen = 255

// ValidName reports whether s looks like a node name: name@host, no
// spaces or control characters, at most MaxNameLen bytes. Strategies drop
// what fails it: names come from the network (port mappers, DNS, gossip).
func ValidName(s string) bool {
	if len(s) > MaxNameLen {
		return false
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '<' || c == '>' || c == 0x7f {
			return false
		}
	}
	return true
}

// Normalize returns names sorted, without duplicates and without names
// that fail ValidName, in a new slice.
func Normalize(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if ValidName(n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Union is a Strategy reporting every node any of its strategies reports
// (--discover local together with --join, say). Its Close closes those of
// its strategies that are io.Closers.
type Union []Strategy

// Run runs every strategy until ctx ends. If one fails, the others are
// stopped and its error is returned.
func (u Union) Run(ctx context.Context, found func(nodes []string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu   sync.Mutex
		sets = make([][]string, len(u)) // guarded by mu: each strategy's last report
		last []string                   // guarded by mu: the last union reported
		wg   sync.WaitGroup
		errs = make([]error, len(u))
	)
	for i, s := range u {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Run(ctx, func(nodes []string) {
				mu.Lock()
				defer mu.Unlock()
				if ctx.Err() != nil {
					return // Run is returning: found must not be called any more
				}
				sets[i] = nodes
				all := Normalize(slices.Concat(sets...))
				if last == nil || !slices.Equal(all, last) {
					last = all
					found(all)
				}
			})
			if errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close closes the strategies that hold resources.
func (u Union) Close() error {
	var errs []error
	for _, s := range u {
		if c, ok := s.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// ErrorLog logs failures that repeat (a host that stays down, polled every
// few seconds) once, and once more when they end or change. Its methods
// are safe for concurrent use.
type ErrorLog struct {
	Logf func(format string, args ...any) // nil discards

	mu   sync.Mutex
	last map[string]string // guarded by mu: key -> the error last logged
}

// Report records the outcome of one attempt at key (a host, a DNS name):
// err nil means it worked.
func (l *ErrorLog) Report(key string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	prev, failing := l.last[key]
	switch {
	case err == nil && failing:
		delete(l.last, key)
		l.logf("%s answers again", key)
	case err != nil && (!failing || prev != err.Error()):
		if l.last == nil {
			l.last = make(map[string]string)
		}
		l.last[key] = err.Error()
		l.logf("%s: %v", key, err)
	}
}

func (l *ErrorLog) logf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf("discovery: "+format, args...)
	}
}

// errf wraps an error with what was being done.
func errf(format string, args ...any) error { return fmt.Errorf("discovery: "+format, args...) }
