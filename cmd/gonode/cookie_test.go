package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCookieSources(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv(cookieEnv, "")
	if c, err := resolveCookie("flag"); err != nil || c != "flag" {
		t.Fatalf("flag: %q %v", c, err)
	}
	t.Setenv(cookieEnv, "fromenv")
	if c, err := resolveCookie(""); err != nil || c != "fromenv" {
		t.Fatalf("env: %q %v", c, err)
	}
	t.Setenv(cookieEnv, "")
	c, err := resolveCookie("")
	if err != nil || len(c) != 20 {
		t.Fatalf("created cookie: %q %v", c, err)
	}
	path := filepath.Join(home, ".erlang.cookie")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("cookie file mode %v, want 0600", st.Mode().Perm())
	}
	if again, _ := resolveCookie(""); again != c {
		t.Fatalf("second read gave %q, want the same cookie %q", again, c)
	}
	if err := os.WriteFile(path, []byte("  spaced\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, _ := resolveCookie(""); c != "  spaced" { // spaces kept, as erl keeps them
		t.Fatalf("existing file: %q", c)
	}
	if err := os.WriteFile(path, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveCookie(""); err == nil {
		t.Fatal("an empty cookie file was accepted")
	}
}

// A cookie file others may read or write is refused, as erl refuses it
// ("Cookie file ... must be accessible by owner only"), with the fix named.
func TestCookieFileOwnerOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv(cookieEnv, "")
	path := filepath.Join(home, ".erlang.cookie")
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602, 0o666} {
		if err := os.WriteFile(path, []byte("SECRET"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := resolveCookie("")
		if err == nil {
			t.Fatalf("mode %04o: cookie accepted", mode)
		}
		msg := err.Error()
		for _, want := range []string{path, "must be accessible by owner only", "chmod 400 " + path} {
			if !strings.Contains(msg, want) {
				t.Fatalf("mode %04o: error %q lacks %q", mode, msg, want)
			}
		}
		if b, _ := os.ReadFile(path); string(b) != "SECRET" {
			t.Fatalf("mode %04o: the file was changed: %q", mode, b)
		}
	}
	for _, mode := range []os.FileMode{0o400, 0o600} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if c, err := resolveCookie(""); err != nil || c != "SECRET" {
			t.Fatalf("mode %04o: %q %v", mode, c, err)
		}
	}
	// The flag and the environment do not read the file, as with erl
	// -setcookie.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := resolveCookie("flag"); err != nil || c != "flag" {
		t.Fatalf("flag with a bad file: %q %v", c, err)
	}
	dir := filepath.Join(home, "d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := cookieFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a directory: %v", err)
	}
}

// The binary stops with exit code 2 and one clear line on a world-readable
// cookie file.
func TestCookieFileOwnerOnlyExit(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv(cookieEnv, "")
	path := filepath.Join(home, ".erlang.cookie")
	if err := os.WriteFile(path, []byte("SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"--sname", "x", "-e", "1"}); code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
}

// TestCookieLineAsErl: erl takes a cookie file's first line with its
// spaces (checked with OTP 25: a file " ab c \n" gives ' ab c '); a
// node that trimmed them would compute other digests than erl's.
func TestCookieLineAsErl(t *testing.T) {
	for in, want := range map[string]string{
		" ab c \n":    " ab c ",
		"abc\n\n  \n": "abc",
		"abc":         "abc",
		"abc\r\n":     "abc",
	} {
		if got := cookieLine(in); got != want {
			t.Errorf("cookieLine(%q) = %q, want %q", in, got, want)
		}
	}
}
