// Command embed is a Go program that embeds a gonode node: the way out
// when code typed in the shell is too slow interpreted. Its package mathx
// is compiled into it and served two ways:
//
//   - as functions peers call by name, registered in a dist.Funcs:
//     gonode --sname c@localhost --cookie secret -e 'rpc("svc@localhost", "Fib", 25)'
//   - as a package, mathx, for the node's interpreters (yaegi symbols,
//     generated below): a function literal spawned on the node calls
//     mathx.Fib as compiled code, and rpc(node, "mathx.Fib", 25) works too;
//     so does a remote shell, gonode --remsh svc@localhost --cookie secret,
//     whose snippets run on the node.
//
// It serves headless until SIGINT or SIGTERM, then stops the node and
// returns once the node's goroutines have ended:
//
//	go run ./examples/embed --sname svc@localhost --cookie secret
package main

//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract -name main github.com/gonode/gonode/examples/embed/mathx

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"syscall"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/examples/embed/mathx"
	"github.com/gonode/gonode/repl"
)

// Symbols are the packages the node's interpreters see, in the form yaegi
// extract writes (it fills this map in the generated file's init).
var Symbols = map[string]map[string]reflect.Value{}

func main() {
	fs := flag.NewFlagSet("embed", flag.ExitOnError)
	sname := fs.String("sname", "svc@localhost", "short node name, NAME[@HOST]")
	cookie := fs.String("cookie", os.Getenv("GONODE_COOKIE"), "the shared secret (default $GONODE_COOKIE)")
	_ = fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *sname, *cookie, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

// run serves the node until ctx is done.
func run(ctx context.Context, sname, cookie string, stdout, stderr io.Writer) error {
	if cookie == "" {
		return fmt.Errorf("no cookie: give --cookie or set GONODE_COOKIE")
	}
	name, err := repl.ShortName(sname)
	if err != nil {
		return err
	}
	funcs := dist.NewFuncs()
	for fname, fn := range map[string]any{
		"Fib": mathx.Fib, "IsPrime": mathx.IsPrime, "Primes": mathx.Primes, "Sum": mathx.Sum,
	} {
		if err := funcs.Register(fname, fn); err != nil {
			return err
		}
	}
	node, err := repl.Embed(ctx, repl.EmbedConfig{
		Name: name, Cookie: cookie, Funcs: funcs, Exports: Symbols, Stdout: stdout, Stderr: stderr,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "embed: %s serves Fib, IsPrime, Primes, Sum and package mathx; SIGINT or SIGTERM stops it\n", node.Name())
	node.Serve(ctx) // returns once the node is closed and its goroutines have ended
	fmt.Fprintf(stderr, "embed: %s stopped\n", name)
	return nil
}
