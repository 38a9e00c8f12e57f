//go:build tools
package tools
import (
 _ "github.com/spf13/cobra"
 _ "github.com/chzyer/readline"
 _ "github.com/traefik/yaegi/interp"
 _ "github.com/vmihailenco/msgpack/v5"
 _ "github.com/rogpeppe/go-internal/testscript"
 _ "github.com/creack/pty"
)
