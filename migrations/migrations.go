// Package migrations embeds the schema's SQL files, applied by goose.
package migrations

import "embed"

// FS holds every migration, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
