package config

import (
	"bufio"
	"os"
	"regexp"
	"testing"
)

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
		commented, name, val := m[1] == "#", m[2], m[3]
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
