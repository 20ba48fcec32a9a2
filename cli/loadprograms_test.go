package cli

import (
	"github.com/rekindle/rekindle/config"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
)

// loadPrograms reads the embedded programs, or those in dir, as
// loadProgramsWith does, rendering their texts with the default settings
// (the default REKINDLE_SMS_BRAND): for tests. The commands pass their
// deployment's renderer to loadProgramsWith, so the check measures the
// texts that deployment will send.
func loadPrograms(dir string) (map[string]*programs.Program, error) {
	r, err := defaultRenderer()
	if err != nil {
		return nil, err
	}
	progs, _, err := loadProgramsWith(dir, r)
	return progs, err
}

// defaultRenderer renders with the settings' defaults.
func defaultRenderer() (*render.Renderer, error) {
	cfg, _, err := config.LoadLookup(func(string) (string, bool) { return "", false }, nil)
	if err != nil {
		return nil, err
	}
	return newRenderer(cfg)
}
