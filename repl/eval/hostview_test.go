package eval

import "testing"

// TestHostViews checks what encoding/json and reflect see of the shell's
// struct types: no unexported field, and the type's name.
func TestHostViews(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "type User struct {\n\tName   string `json:\"name\"`\n\tsecret string\n\tAge    int\n}"},
		{src: `b, err := json.Marshal(User{"ann", "pw", 3})`},
		{src: "string(b)", want: `"{\"name\":\"ann\",\"Age\":3}"`},
		{src: `b, _ = json.MarshalIndent([]*User{{"bob", "x", 1}}, "", "")`},
		{src: "string(b)", want: `"[\n{\n\"name\": \"bob\",\n\"Age\": 1\n}\n]"`},
		{src: "type Team struct{ Lead User; members []User }"},
		{src: `b, _ = json.Marshal(Team{Lead: User{Name: "c", secret: "s"}})`},
		{src: "string(b)", want: `"{\"Lead\":{\"name\":\"c\",\"Age\":0}}"`},
		{src: "var sb strings.Builder"},
		{src: `json.NewEncoder(&sb).Encode(map[string]User{"k": {Name: "d"}})`, want: "nil"},
		{src: "sb.String()", want: `"{\"k\":{\"name\":\"d\",\"Age\":0}}\n"`},
		{src: `b, _ = json.Marshal(map[string]int{"x": 1})`},
		{src: "string(b)", want: `"{\"x\":1}"`},
		// reflect.TypeOf names the type.
		{src: "type Point struct{ X, Y int }"},
		{src: "rt := reflect.TypeOf(Point{})"},
		{src: `fmt.Sprint(rt.Name(), " ", rt, " ", rt.Kind(), " ", rt.NumField(), " ", rt.PkgPath())`, want: `"Point main.Point struct 2 main"`},
		{src: "pt := reflect.TypeOf(&Point{})"},
		{src: `fmt.Sprintln(pt.Name() == "", pt, pt.Elem().Name(), pt.Kind())`, want: `"true *main.Point Point ptr\n"`},
		{src: "reflect.TypeOf(1).Name()", want: `"int"`},
		{src: "reflect.TypeOf(Point{}) == reflect.TypeOf(Point{1, 2})", want: "true"},
		{src: "type F float64"},
		{src: "reflect.TypeOf(2.5).Name()", want: "reflect cannot tell a float64 from a value of F", err: true},
		{src: "reflect.TypeOf(2.5).Kind()", want: "float64"},
	})
}
