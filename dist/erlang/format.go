package erlang

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/gonode/gonode/dist/erlang/etf"
)

// formatTerm prints a wire term (as etf decodes it) in Erlang's syntax,
// as io:format's ~p would, for the text of a *dist.RemoteError: an error
// raised by a BEAM function reaches a gonode caller as strings only, and
// an Erlang programmer reads {exception,undef,[{lists,nope,[],[]}]}
// more readily than Go's %v of the same tuple. Depth and length are
// bounded so that a huge reason does not make a huge message.
func formatTerm(v any) string {
	var b strings.Builder
	writeTerm(&b, v, 0)
	return b.String()
}

const (
	maxFormatDepth = 16
	maxFormatElems = 64
)

func writeTerm(b *strings.Builder, v any, depth int) {
	if depth > maxFormatDepth {
		b.WriteString("...")
		return
	}
	depth++
	switch x := v.(type) {
	case nil:
		b.WriteString("nil")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case etf.Atom:
		b.WriteString(quoteAtom(string(x)))
	case string:
		b.WriteString("<<" + strconv.Quote(x) + ">>")
	case etf.Charlist: // a string only when io_lib:printable_list says so, as ~p
		if x.Printable() {
			b.WriteString(strconv.Quote(string(x)))
		} else {
			b.WriteString("[" + strings.Join(x.Codes(), ",") + "]")
		}
	case etf.Tuple:
		writeSeq(b, "{", "}", x, nil, depth)
	case []any:
		writeSeq(b, "[", "]", x, nil, depth)
	case etf.ImproperList:
		writeSeq(b, "[", "]", x.Elems, x.Tail, depth)
	case map[any]any:
		pairs := make([]string, 0, len(x))
		for k, e := range x {
			var kb strings.Builder
			writeTerm(&kb, k, depth)
			kb.WriteString(" => ")
			writeTerm(&kb, e, depth)
			pairs = append(pairs, kb.String())
		}
		sort.Strings(pairs) // a Go map has no order; the same map prints the same
		b.WriteString("#{" + strings.Join(pairs, ",") + "}")
	case etf.Map:
		b.WriteString("#{")
		for i, p := range x {
			if i > 0 {
				b.WriteString(",")
			}
			writeTerm(b, p.Key, depth)
			b.WriteString(" => ")
			writeTerm(b, p.Value, depth)
		}
		b.WriteString("}")
	case etf.Struct:
		m := map[any]any{etf.Atom("__struct__"): x.Name}
		for k, e := range x.Fields {
			m[k] = e
		}
		writeTerm(b, m, depth-1)
	case fmt.Stringer: // pids, refs, ports, exports
		b.WriteString(x.String())
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

func writeSeq(b *strings.Builder, open, closing string, elems []any, tail any, depth int) {
	b.WriteString(open)
	for i, e := range elems {
		if i > 0 {
			b.WriteString(",")
		}
		if i == maxFormatElems {
			b.WriteString("...")
			break
		}
		writeTerm(b, e, depth)
	}
	if tail != nil {
		b.WriteString("|")
		writeTerm(b, tail, depth)
	}
	b.WriteString(closing)
}

// quoteAtom quotes an atom as Erlang prints it: bare when it is a
// lower-case letter followed by letters, digits, _ and @.
func quoteAtom(a string) string {
	bare := a != "" && a[0] >= 'a' && a[0] <= 'z'
	for i := 0; bare && i < len(a); i++ {
		c := a[i]
		bare = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '@'
	}
	if bare {
		return a
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(a) + "'"
}
