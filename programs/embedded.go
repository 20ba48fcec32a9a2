package programs

import (
	"embed"
	"io/fs"
)

//go:embed all:rekindle
var embedded embed.FS

// Embedded is the programs shipped inside the binary, one folder each.
func Embedded() fs.FS { return embedded }
