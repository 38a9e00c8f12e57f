package etf

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/erl_terms.txt, FuzzDecode's seeds, from the real node's output")

// erlCases are the terms the real node encodes, with their Erlang source.
// The Go value each must decode to is in erlWant, written by hand.
const erlCases = `[
 {small_int, 42}, {neg_int, -42}, {max_int32, 2147483647}, {two_pow_40, 1 bsl 40},
 {min_int64, -(1 bsl 63)}, {two_pow_64, 1 bsl 64}, {neg_two_pow_100, -(1 bsl 100)},
 {two_pow_3000, 1 bsl 3000}, {float, 3.14}, {tiny_float, -0.5e-300},
 {atom_ok, ok}, {atom_spaces, 'hello world'}, {atom_latin1, list_to_atom([104,233,108,108,111])},
 {atom_unicode, list_to_atom([26085,26412])}, {true, true}, {false, false}, {nil, nil}, {undefined, undefined},
 {binary, <<"key">>}, {utf8_binary, unicode:characters_to_binary([104,233,108,108,111])}, {empty_binary, <<>>},
 {bitstring, <<5:3>>}, {tuple, {ok, 1, <<"x">>}}, {empty_tuple, {}}, {large_tuple, list_to_tuple(lists:seq(1,300))},
 {list, [1, two, <<"3">>, 3.5]}, {empty_list, []}, {string, "abc"}, {byte_list, [1,2,3]},
 {latin1_string, [104,233]}, {unicode_string, [26085,26412]},
 {improper, [a|b]}, {improper2, [1,2|3]}, {map, #{a => 1, b => <<"x">>}}, {empty_map, #{}},
 {tuple_key_map, #{{1,2} => x}}, {binary_key_map, #{<<"k">> => [1]}},
 {big_map, maps:from_list([{N, N*N} || N <- lists:seq(1,40)])},
 {struct, #{'__struct__' => 'Elixir.URI', host => <<"h">>, port => 80}},
 {exception, #{'__struct__' => 'Elixir.RuntimeError', '__exception__' => true, message => <<"boom">>}},
 {pid, Self}, {ref, R}, {port, Port}, {'fun', F}, {export, fun lists:map/2},
 {gen_call, {'$gen_call', {Self, [alias|R]}, {get, <<"key">>}}}
]`

// erlScript prints, for each of erlCases, its name, term_to_binary and
// term_to_binary with {minor_version, 2} (UTF-8 atoms, what this package
// writes) in hex; then compressed terms and an old-style float; then, for
// each hex line of the file GOFILE, what binary_to_term makes of it:
// its ~tw text (as UTF-8 hex) and its minor_version 2 encoding.
const erlScript = `
H = fun(B) -> binary:encode_hex(B) end,
Self = self(), R = make_ref(), Port = hd(erlang:ports()), F = fun(X) -> X + 1 end,
Cases = ` + erlCases + `,
io:format("extra ~s ~s ~s~n", [pid_to_list(Self), ref_to_list(R), port_to_list(Port)]),
[io:format("case ~s ~s ~s~n", [N, H(term_to_binary(T)), H(term_to_binary(T, [{minor_version, 2}]))]) || {N, T} <- Cases],
Compressed = [{compressed_binaries, lists:duplicate(200, <<"abcdef">>)},
              {compressed_string, lists:duplicate(5000, $a)},
              {compressed_map, #{list => lists:seq(1, 1000), self => Self}}],
[io:format("compressed ~s ~s~n", [N, H(term_to_binary(T, [compressed]))]) || {N, T} <- Compressed],
io:format("compressed old_float ~s~n", [H(term_to_binary(1.5, [{minor_version, 0}]))]),
{ok, Go} = file:read_file("GOFILE"),
[io:format("go ~s~n", [try binary_to_term(binary:decode_hex(L)) of
      T -> [H(unicode:characters_to_binary(io_lib:format("~tw", [T]))), " ", H(term_to_binary(T, [{minor_version, 2}]))]
    catch error:E -> io_lib:format("error ~w", [E]) end])
 || L <- binary:split(Go, <<"\n">>, [global, trim_all])].
`

// goToErl are Go values for the real node to read, with the ~tw text it
// must print (a regexp where the text holds a node index the node picks).
var goToErl = []struct {
	in   any
	text string
	re   bool // text is a regexp: the node picks the index of a foreign node
}{
	{int64(1) << 62, "4611686018427387904", false},
	{int64(-300), "-300", false},
	{bigInt("-1267650600228229401496703205376"), "-1267650600228229401496703205376", false},
	{uint64(1<<64 - 1), "18446744073709551615", false},
	{1.5, "1.5", false},
	{Atom("héllo"), "héllo", false},
	{Atom("日本"), "'日本'", false},
	{Atom("$gen_call"), "'$gen_call'", false},
	{Atom(strings.Repeat("日", 255)), "'" + strings.Repeat("日", 255) + "'", false}, // ATOM_UTF8: 765 bytes
	{make(Tuple, 300), "{" + strings.Repeat("nil,", 299) + "nil}", false},         // LARGE_TUPLE
	{new(big.Int).Lsh(big.NewInt(1), 3000), "", false},                            // LARGE_BIG; its text is math/big's decimal
	{"héllo", "<<104,195,169,108,108,111>>", false},
	{[]byte{1, 2}, "<<1,2>>", false},
	{nil, "nil", false},
	{true, "true", false},
	{Charlist("abc"), "[97,98,99]", false},
	{Charlist("日本"), "[26085,26412]", false},
	{Charlist(""), "[]", false},
	{Tuple{Atom("ok"), int64(1)}, "{ok,1}", false},
	{[]any{}, "[]", false},
	{ImproperList{Elems: []any{int64(1)}, Tail: int64(2)}, "[1|2]", false},
	{map[Atom]any{"a": int64(1), "b": "x"}, "#{a => 1,b => <<120>>}", false},
	{map[any]any{"k": []any{int64(1000)}}, "#{<<107>> => [1000]}", false},
	{Map{{Tuple{int64(1), int64(2)}, "x"}}, "#{{1,2} => <<120>>}", false},
	{Struct{Name: "Elixir.URI", Fields: map[Atom]any{"host": "h", "port": int64(80)}}, "#{'__struct__' => 'Elixir.URI',host => <<104>>,port => 80}", false},
	{Pid{Node: "a@host", ID: 85, Serial: 2, Creation: 0xdeadbeef}, `<\d+\.85\.2>`, true},
	{Ref{Node: "a@host", Creation: 9, Len: 5, ID: [5]uint32{1, 2, 3, 4, 5}}, `#Ref<\d+\.5\.4\.3\.2\.1>`, true},
	{Ref{Node: "a@host", Creation: 9, Len: 3, ID: [5]uint32{1, 2, 3}}, `#Ref<\d+\.3\.2\.1>`, true},
	{Port{Node: "a@host", ID: 5, Creation: 1}, `#Port<\d+\.5>`, true},
	{Port{Node: "a@host", ID: 1 << 40, Creation: 1}, `#Port<\d+\.1099511627776>`, true},
	{Export{Module: "lists", Function: "map", Arity: 2}, "fun lists:map/2", false},
	{errors.New("boom"), "{error,<<98,111,111,109>>}", false},
	{BitString{Bytes: []byte{0xe0}, TailBits: 3}, "<<7:3>>", false},
	{Tuple{Atom("$gen_call"), Tuple{Pid{Node: "a@host", ID: 1, Creation: 2}, ImproperList{Elems: []any{Atom("alias")}, Tail: Ref{Node: "a@host", Creation: 2, Len: 3, ID: [5]uint32{7, 8, 9}}}}, Tuple{Atom("get"), "key"}},
		`\{'\$gen_call',\{<\d+\.1\.0>,\[alias\|#Ref<\d+\.9\.8\.7>\]\},\{get,<<107,101,121>>\}\}`, true},
}

// erlOutput is what the real node printed, by kind.
type erlOutput struct {
	extra      []string             // pid_to_list(self()), ref_to_list(R), port_to_list(Port)
	cases      map[string][2][]byte // name -> term_to_binary, with minor_version 2
	order      []string
	compressed map[string][]byte
	fromGo     [][2]string // ~tw text, minor_version 2 hex; or "error ..."
}

func runErl(t *testing.T) *erlOutput {
	t.Helper()
	if _, err := exec.LookPath("erl"); err != nil {
		t.Skip("erl is not on PATH: install Erlang/OTP (erlang-nox) to check against a real node")
	}
	var goHex bytes.Buffer
	for _, c := range goToErl {
		b, err := Encode(c.in)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", c.in, err)
		}
		goHex.WriteString(hex.EncodeToString(b) + "\n")
	}
	file := filepath.Join(t.TempDir(), "go.hex")
	if err := os.WriteFile(file, goHex.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	script := strings.ReplaceAll(erlScript, "GOFILE", file)
	cmd := exec.Command("erl", "-noshell", "-eval", script, "-s", "init", "stop")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("erl: %v\n%s%s", err, out, stderr.Bytes())
	}
	o := &erlOutput{cases: map[string][2][]byte{}, compressed: map[string][]byte{}}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "extra":
			o.extra = f[1:]
		case len(f) == 4 && f[0] == "case":
			o.cases[f[1]] = [2][]byte{unhex(t, f[2]), unhex(t, f[3])}
			o.order = append(o.order, f[1])
		case len(f) == 3 && f[0] == "compressed":
			o.compressed[f[1]] = unhex(t, f[2])
		case len(f) == 3 && f[0] == "go":
			o.fromGo = append(o.fromGo, [2]string{string(unhex(t, f[1])), f[2]})
		case len(f) >= 2 && f[0] == "go":
			o.fromGo = append(o.fromGo, [2]string{strings.Join(f[1:], " "), ""})
		default:
			t.Fatalf("unexpected line from erl: %q\n%s", line, stderr.Bytes())
		}
	}
	if len(o.extra) != 3 || len(o.fromGo) != len(goToErl) {
		t.Fatalf("erl printed %d extras and %d answers for %d Go terms:\n%s%s", len(o.extra), len(o.fromGo), len(goToErl), out, stderr.Bytes())
	}
	return o
}

func unhex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// numbers returns the decimal numbers in the text the node printed for a
// pid, ref or port, such as "<0.85.0>" or "#Ref<0.1.2.3>".
func numbers(t *testing.T, s string) []uint64 {
	var ns []uint64
	for _, f := range regexp.MustCompile(`\d+`).FindAllString(s, -1) {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ns = append(ns, n)
	}
	return ns
}

func erlWant(t *testing.T, o *erlOutput) map[string]any {
	const node = Atom("nonode@nohost") // a node without distribution; its creation is 0
	p := numbers(t, o.extra[0])
	self := Pid{Node: node, ID: uint32(p[1]), Serial: uint32(p[2])}
	r := numbers(t, o.extra[1]) // printed as 0.W2.W1.W0
	ref := Ref{Node: node, Len: uint8(len(r) - 1)}
	for i := range ref.Len {
		ref.ID[i] = uint32(r[len(r)-1-int(i)])
	}
	seq := func(n int) []any {
		s := make([]any, n)
		for i := range s {
			s[i] = int64(i + 1)
		}
		return s
	}
	bigMap := map[any]any{}
	for n := int64(1); n <= 40; n++ {
		bigMap[n] = n * n
	}
	return map[string]any{
		"small_int": int64(42), "neg_int": int64(-42), "max_int32": int64(2147483647), "two_pow_40": int64(1) << 40,
		"min_int64": int64(-1 << 63), "two_pow_64": bigInt("18446744073709551616"),
		"neg_two_pow_100": bigInt("-1267650600228229401496703205376"),
		"two_pow_3000":    new(big.Int).Lsh(big.NewInt(1), 3000),
		"float":           3.14, "tiny_float": -0.5e-300,
		"atom_ok": Atom("ok"), "atom_spaces": Atom("hello world"), "atom_latin1": Atom("héllo"), "atom_unicode": Atom("日本"),
		"true": true, "false": false, "nil": nil, "undefined": Atom("undefined"),
		"binary": "key", "utf8_binary": "héllo", "empty_binary": "",
		"bitstring":   BitString{Bytes: []byte{0xa0}, TailBits: 3},
		"tuple":       Tuple{Atom("ok"), int64(1), "x"},
		"empty_tuple": Tuple{}, "large_tuple": Tuple(seq(300)),
		"list":       []any{int64(1), Atom("two"), "3", 3.5},
		"empty_list": []any{}, "string": Charlist("abc"), "byte_list": Charlist("\x01\x02\x03"),
		"latin1_string": Charlist("hé"), "unicode_string": []any{int64(26085), int64(26412)},
		"improper":  ImproperList{Elems: []any{Atom("a")}, Tail: Atom("b")},
		"improper2": ImproperList{Elems: []any{int64(1), int64(2)}, Tail: int64(3)},
		"map":       map[any]any{Atom("a"): int64(1), Atom("b"): "x"}, "empty_map": map[any]any{},
		"tuple_key_map":  Map{{Tuple{int64(1), int64(2)}, Atom("x")}},
		"binary_key_map": map[any]any{"k": Charlist("\x01")}, // the node writes [1] as STRING_EXT
		"big_map":        bigMap,
		"struct":         Struct{Name: "Elixir.URI", Fields: map[Atom]any{"host": "h", "port": int64(80)}},
		"exception":      Struct{Name: "Elixir.RuntimeError", Fields: map[Atom]any{"__exception__": true, "message": "boom"}},
		"pid":            self, "ref": ref,
		"port":     Port{Node: node, ID: numbers(t, o.extra[2])[1]},
		"export":   Export{Module: "lists", Function: "map", Arity: 2},
		"gen_call": Tuple{Atom("$gen_call"), Tuple{self, ImproperList{Elems: []any{Atom("alias")}, Tail: ref}}, Tuple{Atom("get"), "key"}},
		// The fun is checked apart: its free variables are erl_eval's.
		"compressed_binaries": func() []any {
			s := make([]any, 200)
			for i := range s {
				s[i] = "abcdef"
			}
			return s
		}(),
		"compressed_string": Charlist(strings.Repeat("a", 5000)),
		"compressed_map":    map[any]any{Atom("list"): seq(1000), Atom("self"): self},
		"old_float":         1.5,
	}
}

// TestRealNode decodes what a real Erlang node encodes, and has the node
// decode what this package encodes, in one erl run.
func TestRealNode(t *testing.T) {
	o := runErl(t)
	want := erlWant(t, o)
	var seeds bytes.Buffer
	for _, name := range o.order {
		enc := o.cases[name]
		seeds.WriteString(hex.EncodeToString(enc[0]) + "\n")
		for i, b := range enc {
			got, rest, err := Decode(b)
			if err != nil || len(rest) != 0 {
				t.Errorf("%s: Decode(%X) (form %d): %v, %d bytes left", name, b, i, err, len(rest))
				continue
			}
			if name == "fun" {
				checkFun(t, got, want["pid"].(Pid))
			} else if w, ok := want[name]; !ok {
				t.Errorf("%s: no expected value", name)
			} else if !Equal(got, w) {
				t.Errorf("%s: got %#v, want %#v", name, got, w)
			}
		}
		// This package writes what the BEAM writes with UTF-8 atoms, byte
		// for byte; a map's bytes follow Go's order, so only its value is
		// compared.
		got, _, _ := Decode(enc[1])
		again, err := Encode(got)
		if err != nil {
			t.Errorf("%s: Encode(%#v): %v", name, got, err)
		} else if !hasUnorderedMap(got) && !bytes.Equal(again, enc[1]) {
			t.Errorf("%s: Encode(%#v) =\n%X, the node wrote\n%X", name, got, again, enc[1])
		}
	}
	for name, b := range o.compressed {
		seeds.WriteString(hex.EncodeToString(b) + "\n")
		if b[1] != tagCompressed && name != "old_float" {
			t.Errorf("%s: the node did not compress it", name)
		}
		got, rest, err := Decode(b)
		if err != nil || len(rest) != 0 || !Equal(got, want[name]) {
			t.Errorf("%s: Decode(%X) = %#v, %d left, %v", name, b, got, len(rest), err)
		}
	}
	for i, c := range goToErl {
		text, reenc := o.fromGo[i][0], o.fromGo[i][1]
		if reenc == "" {
			t.Errorf("binary_to_term(Encode(%#v)) failed on the node: %s", c.in, text)
			continue
		}
		if b, ok := c.in.(*big.Int); ok && c.text == "" {
			c.text = b.String() // math/big's decimal, not this package's output
		}
		if c.re && !regexp.MustCompile(`^(?:`+c.text+`)$`).MatchString(text) || !c.re && text != c.text {
			t.Errorf("the node reads Encode(%#v) as %s, want %s", c.in, text, c.text)
		}
		ours, _ := Encode(c.in)
		if !hasUnorderedMap(c.in) && !strings.EqualFold(hex.EncodeToString(ours), reenc) {
			t.Errorf("Encode(%#v) = %X, the node re-encodes it as %s", c.in, ours, reenc)
		}
	}
	if *updateSeeds {
		if err := os.WriteFile(filepath.Join("testdata", "erl_terms.txt"), seeds.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// hasUnorderedMap reports whether v is a Go map or Struct of two entries
// or more, whose encoding follows Go's random iteration order.
func hasUnorderedMap(v any) bool {
	switch m := v.(type) {
	case map[any]any:
		return len(m) > 1
	case map[Atom]any:
		return len(m) > 1
	case Struct:
		return len(m.Fields) > 0
	}
	return false
}

func checkFun(t *testing.T, got any, self Pid) {
	f, ok := got.(Fun)
	if !ok {
		t.Errorf("fun: got %#v", got)
		return
	}
	// fun(X) -> X + 1 end, made by the shell's evaluator in self().
	if f.Module != "erl_eval" || f.Arity != 1 || f.Pid != self || len(f.Free) == 0 {
		t.Errorf("fun: got module %s, arity %d, pid %v, %d free variables", f.Module, f.Arity, f.Pid, len(f.Free))
	}
}
