package config

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// region accepts a region code that phonenumbers has metadata for ("US",
// "GB"), spelt as phonenumbers.Parse wants it: upper case. A lower-case code
// is refused, not upper-cased, as the table refuses REKINDLE_LOG_FORMAT=JSON:
// the value in the environment is the value used and the one `rekindle
// config` prints. The error says what to write instead. Empty never gets
// here (an empty variable, or --default-region=, means the default US); it
// would be refused too: the CLI would refuse every number without a country
// code while the web form quietly used US.
func region(v string) error {
	supported := phonenumbers.GetSupportedRegions() // the library's own map: read only
	if supported[v] {
		return nil
	}
	if up := strings.ToUpper(strings.TrimSpace(v)); up != v && supported[up] {
		return fmt.Errorf("%q is not a supported region code: write it as %q", v, up)
	}
	return fmt.Errorf(`%q is not a supported region code: want a two-letter ISO 3166-1 code such as "US", or "GB" for the United Kingdom`, v)
}
