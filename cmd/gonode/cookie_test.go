package main

import (
	"os"
	"path/filepath"
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
	if c, _ := resolveCookie(""); c != "spaced" {
		t.Fatalf("existing file: %q", c)
	}
	if err := os.WriteFile(path, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveCookie(""); err == nil {
		t.Fatal("an empty cookie file was accepted")
	}
}
