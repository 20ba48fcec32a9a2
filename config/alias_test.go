package config

import (
	"flag"
	"testing"
)

// REKINDLE_PROGRAMS_DIR is --programs-dir, and --programs as the other
// commands spell it; the setting's own name wins when both are given.
func TestProgramsDirFlagAlias(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--programs-dir", "a"}, "a"},
		{[]string{"--programs", "b"}, "b"},
		{[]string{"--programs", "b", "--programs-dir", "a"}, "a"},
		{nil, "env"},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		Flags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		cfg, src, err := Load(env(map[string]string{"REKINDLE_PROGRAMS_DIR": "env"}), fs)
		if err != nil || cfg.ProgramsDir != c.want {
			t.Errorf("%v: %q (%s) %v, want %q", c.args, cfg.ProgramsDir, src["REKINDLE_PROGRAMS_DIR"], err, c.want)
		}
	}
}
