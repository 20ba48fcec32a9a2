package config

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// envValue is a value of the env example as systemd reads it: a value in
// single quotes is the text between them, literally.
func envValue(raw string) string {
	if len(raw) >= 2 && raw[0] == '\'' && raw[len(raw)-1] == '\'' {
		return raw[1 : len(raw)-1]
	}
	return raw
}

// systemd/rekindle.env.example says its commented lines show the built-in
// defaults: every setting of the table is there once, each commented line
// holds exactly the table's default, and a line set for the operator to
// edit holds a value the table accepts.
func TestEnvExampleMatchesTheTable(t *testing.T) {
	const file = "../systemd/rekindle.env.example"
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]Var{}
	for _, v := range Table {
		rows[v.Name] = v
	}
	setting := regexp.MustCompile(`^(#?)([A-Z][A-Z0-9_]*)=(.*)$`)
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		m := setting.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		commented, name, val := m[1] == "#", m[2], envValue(m[3])
		v, ok := rows[name]
		if !ok {
			t.Errorf("%s:%d: %s is not a setting rekindle reads", file, n, name)
			continue
		}
		if prev := seen[name]; prev != 0 {
			t.Errorf("%s:%d: %s again (first on line %d)", file, n, name, prev)
		}
		seen[name] = n
		switch {
		case commented && val != v.Default:
			t.Errorf("%s:%d: #%s=%s, but the default is %q", file, n, name, val, v.Default)
		case !commented:
			if err := v.set(&Config{}, val); err != nil {
				t.Errorf("%s:%d: %s=%s: %v", file, n, name, val, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, v := range Table {
		if seen[v.Name] == 0 {
			t.Errorf("%s lacks %s (default %q)", file, v.Name, v.Default)
		}
	}
}

// An operator runs admin commands with the service's configuration by
// sourcing the env file in sh (set -a; . rekindle.env), so the example,
// every commented line uncommented, must read in sh as systemd reads it:
// each value written so both agree (plain characters, or all in single
// quotes), and sh then sets each variable to the value systemd would.
func TestEnvExampleSourcesInShell(t *testing.T) {
	const file = "../systemd/rekindle.env.example"
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	setting := regexp.MustCompile(`^#?([A-Z][A-Z0-9_]*)=(.*)$`)
	plain := regexp.MustCompile(`^[A-Za-z0-9_./:@,+=%?-]*$`)
	quoted := regexp.MustCompile(`^'[^']*'$`)
	want := map[string]string{}
	var uncommented []string
	for n, line := range strings.Split(string(b), "\n") {
		m := setting.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if !plain.MatchString(m[2]) && !quoted.MatchString(m[2]) {
			t.Errorf("%s:%d: %s: systemd and sh may read this value differently; put it in single quotes", file, n+1, line)
		}
		want[m[1]] = envValue(m[2])
		uncommented = append(uncommented, strings.TrimPrefix(line, "#"))
	}
	if want["REKINDLE_EMAIL_FROM"] != "Rekindle <rekindle@localhost>" {
		t.Fatalf("REKINDLE_EMAIL_FROM in the example reads as %q", want["REKINDLE_EMAIL_FROM"])
	}
	env := filepath.Join(t.TempDir(), "rekindle.env")
	if err := os.WriteFile(env, []byte(strings.Join(uncommented, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `set -a; . "$1" && env -0`, "sh", env)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh -c 'set -a; . rekindle.env': %v\n%s", err, stderr.String())
	}
	got := map[string]string{}
	for _, kv := range strings.Split(string(out), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			got[k] = v
		}
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("after sourcing in sh, %s = %q (set: %v), want %q", name, g, ok, w)
		}
	}
}
