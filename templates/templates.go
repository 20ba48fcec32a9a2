// Package templates embeds the layouts every message and page is rendered
// in. REKINDLE_TEMPLATES_DIR overrides them with a folder of the same shape.
package templates

import "embed"

// FS holds email/layout.html, email/layout.txt and the web pages.
//
//go:embed email web
var FS embed.FS
