package config

import (
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// A PostgreSQL connection string (DATABASE_URL) is a secret only for its
// password: the host, port, user and database name are what an operator
// needs to see to know where rekindle connects. The helpers here find the
// password in either form lib/pq takes, a postgres:// URL or key=value
// settings, also in a URL that does not parse (an error message quotes
// those whole).

// CheckDatabaseURL fails unless dsn can be what lib/pq takes: a postgres://
// or postgresql:// URL, or key=value settings. The error does not repeat
// the value, which may hold a password.
func CheckDatabaseURL(dsn string) error {
	const want = "want a postgres://user@host/dbname URL or key=value settings"
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) && !strings.Contains(ue.Err.Error(), "escape") {
				// Without the URL; an escape error would quote part of it.
				return errors.New(want + " (" + ue.Err.Error() + ")")
			}
			return errors.New(want)
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return errors.New(want)
		}
		return nil
	}
	if !strings.Contains(dsn, "=") {
		return errors.New(want)
	}
	return nil
}

// keywordPassword finds password=... in key=value settings, quoted or not.
var keywordPassword = regexp.MustCompile(`(?i)(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)`)

// DatabasePassword returns the password dsn holds, as written in it ("" for
// none).
func DatabasePassword(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		// The user information ends at the last @ before the query: a
		// password may hold a / or an @ its writer did not escape.
		if q := strings.IndexByte(rest, '?'); q >= 0 && strings.LastIndexByte(rest[:q], '@') >= 0 {
			rest = rest[:q]
		}
		at := strings.LastIndexByte(rest, '@')
		if at < 0 {
			return ""
		}
		_, pw, ok := strings.Cut(rest[:at], ":")
		if !ok {
			return ""
		}
		return pw
	}
	m := keywordPassword.FindStringSubmatch(dsn)
	if m == nil {
		return ""
	}
	return m[1]
}

// RedactDatabaseURL is dsn with its password replaced by mask.
func RedactDatabaseURL(dsn, mask string) string {
	pw := DatabasePassword(dsn)
	if pw == "" {
		return dsn
	}
	if strings.Contains(dsn, "://") {
		// Only the password's own place: the same text may be the user or
		// the database name too.
		i := strings.Index(dsn, "://") + 3
		j := i + strings.Index(dsn[i:], ":"+pw+"@")
		if j >= i {
			return dsn[:j+1] + mask + dsn[j+1+len(pw):]
		}
		return strings.ReplaceAll(dsn, pw, mask)
	}
	m := keywordPassword.FindStringSubmatchIndex(dsn)
	return dsn[:m[2]] + mask + dsn[m[3]:]
}

// RedactPassword removes dsn's password from text (an error message that
// may quote dsn): each form it may be written in (as in dsn, unescaped,
// quoted) becomes "xxxxx".
func RedactPassword(text, dsn string) string {
	pw := DatabasePassword(dsn)
	if pw == "" {
		return text
	}
	forms := []string{pw}
	if u, err := url.PathUnescape(pw); err == nil {
		forms = append(forms, u)
	}
	if len(pw) > 1 && pw[0] == '\'' && pw[len(pw)-1] == '\'' {
		forms = append(forms, strings.ReplaceAll(strings.ReplaceAll(pw[1:len(pw)-1], `\'`, `'`), `\\`, `\`))
	}
	for _, f := range forms {
		if q := strconv.Quote(f); len(q) > 2 {
			forms = append(forms, q[1:len(q)-1]) // as %q writes it
		}
	}
	for _, f := range forms {
		if f != "" {
			text = strings.ReplaceAll(text, f, "xxxxx")
		}
	}
	return text
}
