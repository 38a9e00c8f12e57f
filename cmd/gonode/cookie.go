package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// cookieEnv names the environment variable that gives the cookie when
// --cookie is not used.
const cookieEnv = "GONODE_COOKIE"

// resolveCookie picks the cookie as Erlang does: the flag, else the
// environment, else ~/.erlang.cookie, created with a random value and mode
// 0600 when missing. The file is shared with Erlang on purpose, so that
// gonode and BEAM nodes of one user agree without configuration.
func resolveCookie(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if v := os.Getenv(cookieEnv); v != "" {
		return v, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no --cookie, no $%s and no home directory for ~/.erlang.cookie: %w", cookieEnv, err)
	}
	return cookieFile(filepath.Join(home, ".erlang.cookie"))
}

// cookieLine is the cookie a file holds, as erl reads it: its first line,
// spaces included (a file " ab c \n" is the cookie ' ab c '), without the
// line's end.
func cookieLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r")
}

func cookieFile(path string) (string, error) {
	b, err := readCookieFile(path)
	if err == nil {
		c := cookieLine(string(b))
		if strings.TrimSpace(c) == "" {
			return "", fmt.Errorf("cookie file %s is empty", path)
		}
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	c := randomCookie()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return cookieFile(path) // another node created it meanwhile
	}
	if err != nil {
		return "", fmt.Errorf("creating cookie file: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(c); err != nil {
		return "", fmt.Errorf("writing cookie file: %w", err)
	}
	return c, nil
}

// readCookieFile reads the cookie file after checking it as erl does: a
// regular file that neither group nor others may read or write (erl stops
// with "Cookie file ... must be accessible by owner only").
func readCookieFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("reading cookie file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading cookie file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("cookie file %s is not a regular file (%v)", path, st.Mode().Type())
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("cookie file %s must be accessible by owner only (its mode is %04o); fix it with: chmod 400 %s",
			path, st.Mode().Perm(), path)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading cookie file: %w", err)
	}
	return b, nil
}

// randomCookie makes 20 upper-case letters, as erl does.
func randomCookie() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 'A' + b[i]%26
	}
	return string(b)
}
