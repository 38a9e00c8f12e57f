package repl

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/format"
)

// Table is what processes() returns: it prints as a table, for this node
// or another.
type Table []proc.Info

func (t Table) String() string {
	var b strings.Builder
	w := 14 // the NAME column fits the longest name (global_name_server is 18)
	for _, in := range t {
		w = max(w, len(in.Name))
	}
	fmt.Fprintf(&b, "%-28s %-*s %-8s %5s  %s\n", "PID", w, "NAME", "STATUS", "MSGS", "DOING")
	for _, in := range t {
		doing := in.Label
		if doing == "" {
			doing = shortFunc(in.Function)
		}
		fmt.Fprintf(&b, "%-28s %-*s %-8s %5d  %s\n", in.Pid, w, in.Name, in.Status, in.MessageQueueLen, doing)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Info is what i(pid) returns: it prints one field a line.
type Info proc.Info

func (in Info) String() string {
	var b strings.Builder
	row := func(k string, v any) { fmt.Fprintf(&b, "  %-18s %v\n", k, v) }
	fmt.Fprintf(&b, "%v\n", in.Pid)
	row("registered name", orDash(in.Name))
	row("status", in.Status)
	row("style", in.Style)
	row("message queue", in.MessageQueueLen)
	row("links", in.Links)
	row("monitors", in.Monitors)
	row("monitored by", in.MonitoredBy)
	row("trap exit", in.TrapExit)
	row("label", orDash(in.Label))
	row("function", orDash(shortFunc(in.Function)))
	row("memory (bytes)", in.Memory)
	return strings.TrimRight(b.String(), "\n")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortFunc drops what a Go function name says about where its package
// lives, and the suffix of a method value: "repl.(*Runtime).printOutput"
// rather than "github.com/gonode/gonode/repl.(*Runtime).printOutput-fm".
func shortFunc(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return strings.TrimSuffix(name, "-fm")
}

// infoFromWire rebuilds a proc.Info that crossed nodes: the wire carries a
// struct as a map of its fields, numbers as int (int64 from older peers) or uint64 and lists as
// []any. A field that is missing or of another shape is left zero, so
// that a peer of another version still gives a readable table.
func infoFromWire(v any) (proc.Info, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return proc.Info{}, false
	}
	var in proc.Info
	dst := reflect.ValueOf(&in).Elem()
	for i := range dst.NumField() {
		if w, ok := m[dst.Type().Field(i).Name]; ok {
			setFromWire(dst.Field(i), w)
		}
	}
	return in, !in.Pid.IsZero()
}

// setFromWire stores w in dst when their shapes agree.
func setFromWire(dst reflect.Value, w any) {
	if w == nil {
		return
	}
	wv := reflect.ValueOf(w)
	switch {
	case wv.Type().AssignableTo(dst.Type()):
		dst.Set(wv)
	case dst.Kind() == reflect.Int && (wv.CanInt() || wv.CanUint()):
		if wv.CanInt() {
			dst.SetInt(wv.Int())
		} else {
			dst.SetInt(int64(wv.Uint()))
		}
	case dst.Kind() == reflect.Slice && wv.Kind() == reflect.Slice:
		out := reflect.MakeSlice(dst.Type(), 0, wv.Len())
		for i := range wv.Len() {
			if e := reflect.ValueOf(wv.Index(i).Interface()); e.IsValid() && e.Type().AssignableTo(dst.Type().Elem()) {
				out = reflect.Append(out, e)
			}
		}
		dst.Set(out)
	}
}

// tableFromWire rebuilds the table a peer's node.Processes returned.
func tableFromWire(v any) (Table, error) {
	rows, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("not a process table: %s", format.Value(v))
	}
	t := make(Table, 0, len(rows))
	for _, r := range rows {
		in, ok := infoFromWire(r)
		if !ok {
			return nil, fmt.Errorf("not a process description: %s", format.Value(r))
		}
		t = append(t, in)
	}
	return t, nil
}
