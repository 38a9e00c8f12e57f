package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"
)

// compiled is what a form's compiled program did.
type compiled struct {
	stdout string
	panic  string // the first line of what it printed on stderr when it failed ("" when it exited 0)
}

// program is all the forms built as one Go program in a temporary module.
type program struct {
	bin    string
	broken map[string]string // form package -> why it is not in the program (compile errors)
}

// buildForms writes the compiled version of every form into dir and
// builds them with one go build. A form whose program does not compile is
// left out, with the compiler's message, and the rest built again.
func buildForms(ctx context.Context, dir string, forms []*form) (*program, error) {
	pr := &program{bin: filepath.Join(dir, "forms"), broken: map[string]string{}}
	ver := strings.TrimPrefix(runtime.Version(), "go")
	if parts := strings.SplitN(ver, ".", 3); len(parts) >= 2 {
		ver = parts[0] + "." + parts[1]
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module forms\n\ngo "+ver+"\n"), 0o644); err != nil {
		return nil, err
	}
	var ok []*form
	for _, f := range forms {
		src, err := goSource(f)
		if err != nil {
			pr.broken[f.pkg] = err.Error()
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, f.pkg), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, f.pkg, "form.go"), []byte(src), 0o644); err != nil {
			return nil, err
		}
		ok = append(ok, f)
	}
	for attempt := 0; ; attempt++ {
		out, err := pr.build(ctx, dir, ok)
		if err == nil {
			return pr, nil
		}
		errs := compileErrors(out)
		if len(errs) == 0 || attempt > 0 {
			return nil, fmt.Errorf("go build: %v\n%s", err, out)
		}
		var rest []*form
		for _, f := range ok {
			if msg, bad := errs[f.pkg]; bad {
				pr.broken[f.pkg] = msg
			} else {
				rest = append(rest, f)
			}
		}
		ok = rest
	}
}

// build writes the main package that runs a form by its package name, and
// builds the program.
func (pr *program) build(ctx context.Context, dir string, forms []*form) ([]byte, error) {
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n\t\"os\"\n")
	for _, f := range forms {
		fmt.Fprintf(&b, "\t%q\n", "forms/"+f.pkg)
	}
	b.WriteString(")\n\nvar forms = map[string]func(){\n")
	for _, f := range forms {
		fmt.Fprintf(&b, "\t%q: %s.%s,\n", f.pkg, f.pkg, entry)
	}
	b.WriteString("}\n\nfunc main() {\n\tif len(os.Args) > 1 {\n\t\tforms[os.Args[1]]()\n\t}\n}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", pr.bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	return cmd.CombinedOutput()
}

var compileErrorRE = regexp.MustCompile(`(?m)^(?:\./)?(form\d+)/form\.go:(.*)$`)

// compileErrors maps form packages to their compile errors in go build's
// output.
func compileErrors(out []byte) map[string]string {
	errs := map[string]string{}
	for _, m := range compileErrorRE.FindAllSubmatch(out, -1) {
		pkg := string(m[1])
		if errs[pkg] != "" {
			errs[pkg] += "\n"
		}
		errs[pkg] += string(m[2])
	}
	return errs
}

// run runs one form's compiled program.
func (pr *program) run(ctx context.Context, pkg string) (compiled, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, pr.bin, pkg)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return compiled{}, fmt.Errorf("the compiled %s did not end within 20s", pkg)
	}
	c := compiled{stdout: normalize(stdout.String())}
	if err != nil {
		c.panic, _, _ = strings.Cut(stderr.String(), "\n")
		c.panic = strings.TrimSuffix(strings.TrimPrefix(c.panic, "panic: "), " [recovered]")
		if c.panic == "" {
			c.panic = err.Error()
		}
	}
	// The package is main in the program the user would write.
	c.stdout = strings.ReplaceAll(c.stdout, pkg+".", "main.")
	c.panic = strings.ReplaceAll(c.panic, pkg+".", "main.")
	return c, nil
}

// initOutput runs the program without a form: a form whose package
// initialisation prints would print in every other form's output.
func (pr *program) initOutput(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, pr.bin).CombinedOutput()
	return string(out), err
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
