package repl

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gonode/gonode/dist"
)

// gonode cert makes what nodes need to talk over mutual TLS; --tls-dir
// and --tls-cert/--tls-key/--tls-ca load it (see dist.TLS).

// CertUsage is gonode cert's help.
const CertUsage = `Usage: gonode cert [-dir DIR] [-days N] NODE...

Makes certificates for nodes that talk over mutual TLS: a cluster CA
(DIR/ca.pem, and its key DIR/ca-key.pem) unless DIR holds one already, and
for each NODE a key and a certificate signed by the CA, DIR/NODE.pem and
DIR/NODE-key.pem, that name the node (URI SAN gonode:NODE) and its host
(DNS or IP SAN). NODE is name@host; a bare name gets this machine's short
host name, as --sname does. Files that exist are kept, so run it again to
add a node. Keys are written with mode 0600.

Then start each node with --tls-dir DIR. A node on another machine needs
ca.pem, NODE.pem and NODE-key.pem there; ca-key.pem stays where
certificates are made.

  -dir DIR  where the files go (default "certs")
  -days N   how long the CA and certificates are valid (default 825)

Example:
  gonode cert node1@localhost node2@localhost
  gonode --sname node1@localhost --cookie secret --tls-dir certs
`

// RunCert runs gonode cert with its arguments and returns its exit code.
func RunCert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gonode cert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, CertUsage) }
	dir := fs.String("dir", "certs", "")
	days := fs.Int("days", 825, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "gonode cert: name at least one node (name@host)")
		fmt.Fprint(stderr, CertUsage)
		return 2
	}
	if *days <= 0 {
		fmt.Fprintln(stderr, "gonode cert: -days must be positive")
		return 2
	}
	var nodes []string
	for _, a := range fs.Args() {
		if strings.HasPrefix(a, "-") {
			fmt.Fprintf(stderr, "gonode cert: flags go before the node names: %q\n", a)
			return 2
		}
		n, err := dist.ShortName(a)
		if err != nil {
			fmt.Fprintf(stderr, "gonode cert: %v\n", err)
			return 2
		}
		nodes = append(nodes, n)
	}
	res, err := dist.WriteCertDir(*dir, nodes, time.Duration(*days)*24*time.Hour)
	for _, f := range res.Written {
		fmt.Fprintf(stdout, "wrote %s\n", f)
	}
	for _, f := range res.Kept {
		fmt.Fprintf(stdout, "kept  %s (it exists)\n", f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gonode cert: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "start each node with --tls-dir %s\n", *dir)
	return 0
}

// CheckTLSFlags reports what is wrong with a command line's --tls-*
// flags, as a usage error: either --tls-dir, or all of --tls-cert,
// --tls-key and --tls-ca.
func CheckTLSFlags(cfg Config) error {
	files := map[string]string{"--tls-cert": cfg.TLSCert, "--tls-key": cfg.TLSKey, "--tls-ca": cfg.TLSCA}
	var given, missing []string
	for _, f := range []string{"--tls-cert", "--tls-key", "--tls-ca"} {
		if files[f] != "" {
			given = append(given, f)
		} else {
			missing = append(missing, f)
		}
	}
	switch {
	case cfg.TLSDir != "" && len(given) > 0:
		return fmt.Errorf("use either --tls-dir or %s, not both", strings.Join(given, ", "))
	case len(given) > 0 && len(missing) > 0:
		return fmt.Errorf("%s needs %s too (--tls-cert, --tls-key and --tls-ca go together; or use --tls-dir)",
			strings.Join(given, ", "), strings.Join(missing, " and "))
	case (cfg.TLSDir != "" || len(given) > 0) && cfg.NodeName == "":
		return errors.New("--tls-* flags need --sname or --name")
	}
	return nil
}

// tlsTransport is the transport the --tls-* flags ask for, or nil for
// plain TCP.
func tlsTransport(cfg Config) (dist.Transport, error) {
	var (
		files  dist.TLSFiles
		source string
	)
	switch {
	case cfg.TLSDir != "":
		files, source = dist.TLSDirFiles(cfg.TLSDir, cfg.NodeName), "--tls-dir "+cfg.TLSDir
		if _, err := os.Stat(files.Cert); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s has no certificate for %s (%s): make one with gonode cert -dir %s %s",
				cfg.TLSDir, cfg.NodeName, files.Cert, cfg.TLSDir, cfg.NodeName)
		}
	case cfg.TLSCert != "":
		files, source = dist.TLSFiles{Cert: cfg.TLSCert, Key: cfg.TLSKey, CA: cfg.TLSCA}, "--tls-ca "+cfg.TLSCA
	default:
		return nil, nil
	}
	t, err := dist.LoadTLS(files)
	if err != nil {
		return nil, err
	}
	t.Source = source
	if names := t.Nodes(); len(names) > 0 && !slices.Contains(names, cfg.NodeName) {
		return nil, fmt.Errorf("the certificate %s is for %s, not for %s", files.Cert, strings.Join(names, ", "), cfg.NodeName)
	}
	return t, nil
}
