package config

import (
	"errors"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A PostgreSQL connection string (DATABASE_URL) is a secret only for its
// password: the host, port, user and database name are what an operator
// needs to see to know where rekindle connects. The helpers here find the
// password in either form lib/pq takes, a postgres:// URL (in its user
// information or as a password query parameter) or key=value settings, also
// in a URL that does not parse (an error message quotes those whole).

// CheckDatabaseURL fails unless dsn can be what lib/pq takes: a postgres://
// or postgresql:// URL, or key=value settings. The error quotes neither the
// value nor the URL parser's message: either may hold the password (a
// password with a / makes the rest of it read as the port).
func CheckDatabaseURL(dsn string) error {
	const want = "want a postgres://user:password@host:port/dbname URL or key=value settings"
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return errors.New("the URL does not parse (" + parseProblem(err) + "): want postgres://user:password@host:port/dbname, " +
				"with / @ : ? # or % in the password percent-encoded (%2F %40 %3A %3F %23 %25)")
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return errors.New(want)
		}
		if _, stray := urlParts(dsn[strings.Index(dsn, "://")+3:]); stray {
			// lib/pq would take the user information to end at the
			// first / (the host after it): most likely a password with
			// an unescaped / or @, and the host it connects to is not
			// the one the writer meant.
			return errors.New("an @ after the host (in the database name): a password holding / or @, or a database name holding @, " +
				"must have them percent-encoded (%2F %40)")
		}
		return nil
	}
	if !strings.Contains(dsn, "=") {
		return errors.New(want)
	}
	if _, err := keyValuePasswords(dsn); err != nil {
		return err
	}
	return nil
}

// parseProblem says in fixed words what url.Parse found wrong: its own
// message quotes part of the URL, which may be part of the password.
func parseProblem(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "invalid port"):
		return "invalid port: what follows the colon after the host is not a port number, as when a password holds a / or a ?"
	case strings.Contains(msg, "escape"):
		return "a % is not followed by two hexadecimal digits"
	case strings.Contains(msg, "userinfo"):
		return "the user or password holds a character that must be percent-encoded"
	case strings.Contains(msg, "host"):
		return "the host is not a host name or address"
	}
	return "it is not a URL"
}

// queryPassword finds a password query parameter in a URL: lib/pq takes
// postgres://host/db?password=... as well as the user information.
var queryPassword = regexp.MustCompile(`[?&]([^=&?#]*)=([^&]*)`)

// passwordSpans are the byte ranges of dsn that hold a password, in order
// and not overlapping: in a URL, the user information's and every password
// query parameter's; in key=value settings, every password setting's.
func passwordSpans(dsn string) [][2]int {
	var spans [][2]int
	if i := strings.Index(dsn, "://"); i >= 0 {
		start := i + 3
		rest := dsn[start:]
		authority, stray := urlParts(rest)
		if _, err := url.Parse(dsn); err != nil || stray {
			// Not as lib/pq reads it, and refused by CheckDatabaseURL:
			// the user information ends at the last @ before the query,
			// as a password may hold a / or an @ its writer did not
			// escape; masking that much keeps all of it out of messages.
			if q := strings.IndexByte(rest, '?'); q >= 0 && strings.LastIndexByte(rest[:q], '@') >= 0 {
				rest = rest[:q]
			}
		} else {
			// Exactly as net/url, and so lib/pq, reads it: the masked URL
			// shows the host the daemon connects to.
			rest = authority
		}
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if c := strings.IndexByte(rest[:at], ':'); c >= 0 {
				spans = append(spans, [2]int{start + c + 1, start + at})
			}
		}
		for _, m := range queryPassword.FindAllStringSubmatchIndex(dsn[start:], -1) {
			key := dsn[start+m[2] : start+m[3]]
			if k, err := url.QueryUnescape(key); err == nil {
				key = k
			}
			if strings.EqualFold(key, "password") {
				spans = append(spans, [2]int{start + m[4], start + m[5]})
			}
		}
	} else {
		// Settings that do not parse hide everything from the first
		// password on: where its value ends cannot be told.
		kv, _ := keyValuePasswords(dsn)
		spans = append(spans, kv...)
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a][0] < spans[b][0] })
	var out [][2]int
	for _, s := range spans {
		if s[0] == s[1] {
			continue // an empty password: nothing to hide
		}
		if n := len(out); n > 0 && s[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], s[1])
			continue
		}
		out = append(out, s)
	}
	return out
}

// urlParts splits what follows a URL's "://" as net/url (which lib/pq
// parses DATABASE_URL with) does: the authority (user information and host)
// ends at the first /, ? or #; the query runs from the first ? before the
// fragment. stray reports an @ after the authority outside the query, where
// the writer most likely meant it to be part of the user information.
func urlParts(rest string) (authority string, stray bool) {
	beforeFrag, frag, _ := strings.Cut(rest, "#")
	beforeQuery, _, _ := strings.Cut(beforeFrag, "?")
	authority = beforeQuery
	if k := strings.IndexByte(beforeQuery, '/'); k >= 0 {
		authority = beforeQuery[:k]
	}
	return authority, strings.Contains(beforeQuery[len(authority):], "@") || strings.Contains(frag, "@")
}

// DatabasePassword returns the password dsn holds, as written in it ("" for
// none): the first one, where a URL holds one in its user information and
// another as a query parameter.
func DatabasePassword(dsn string) string {
	if s := passwordSpans(dsn); len(s) > 0 {
		return dsn[s[0][0]:s[0][1]]
	}
	return ""
}

// databasePasswords returns every password dsn holds, as written in it.
func databasePasswords(dsn string) []string {
	var out []string
	for _, s := range passwordSpans(dsn) {
		out = append(out, dsn[s[0]:s[1]])
	}
	return out
}

// RedactDatabaseURL is dsn with each password replaced by mask.
func RedactDatabaseURL(dsn, mask string) string {
	spans := passwordSpans(dsn)
	for i := len(spans) - 1; i >= 0; i-- {
		dsn = dsn[:spans[i][0]] + mask + dsn[spans[i][1]:]
	}
	return dsn
}

// RedactPassword removes dsn's passwords from text (an error message that
// may quote dsn): each form one may be written in (as in dsn, unescaped,
// quoted) becomes "xxxxx".
func RedactPassword(text, dsn string) string {
	var forms []string
	for _, pw := range databasePasswords(dsn) {
		forms = append(forms, pw)
		if u, err := url.PathUnescape(pw); err == nil {
			forms = append(forms, u)
		}
		if u, err := url.QueryUnescape(pw); err == nil {
			forms = append(forms, u)
		}
		if len(pw) > 1 && pw[0] == '\'' && pw[len(pw)-1] == '\'' {
			forms = append(forms, strings.ReplaceAll(strings.ReplaceAll(pw[1:len(pw)-1], `\'`, `'`), `\\`, `\`))
		}
	}
	for _, f := range forms {
		if q := strconv.Quote(f); len(q) > 2 {
			forms = append(forms, q[1:len(q)-1]) // as %q writes it
		}
	}
	// Longest first, so that a form is not left half replaced by a shorter
	// one it contains.
	sort.SliceStable(forms, func(a, b int) bool { return len(forms[a]) > len(forms[b]) })
	for _, f := range forms {
		if f != "" {
			text = strings.ReplaceAll(text, f, "xxxxx")
		}
	}
	return text
}

// keyValuePasswords reads key=value settings as lib/pq does (spaces around
// =, a value in single quotes where it begins, backslash escapes) and
// returns the spans of the password values, quotes included. Settings it
// cannot read are an error in fixed words, quoting nothing; the spans then
// run from the first password to the end, as where it ends is unknown.
func keyValuePasswords(dsn string) ([][2]int, error) {
	var spans [][2]int
	space := func(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v' }
	i, n := 0, len(dsn)
	fail := func(msg string) ([][2]int, error) {
		if p := strings.Index(strings.ToLower(dsn), "password"); p >= 0 {
			spans = append(spans, [2]int{p, n})
		}
		return spans, errors.New("key=value settings: " + msg)
	}
	for {
		for i < n && space(dsn[i]) {
			i++
		}
		if i >= n {
			return spans, nil
		}
		k := i
		for i < n && dsn[i] != '=' && !space(dsn[i]) {
			i++
		}
		key := dsn[k:i]
		for i < n && space(dsn[i]) {
			i++
		}
		if i >= n || dsn[i] != '=' || key == "" {
			return fail("a word without =; a value holding spaces must be in single quotes (password='two words')")
		}
		i++
		for i < n && space(dsn[i]) {
			i++
		}
		v := i
		if i < n && dsn[i] == '\'' {
			i++
			for ; i < n && dsn[i] != '\''; i++ {
				if dsn[i] == '\\' {
					i++
				}
			}
			if i >= n {
				return fail("a quoted value is not closed with a single quote")
			}
			i++
		} else {
			for ; i < n && !space(dsn[i]); i++ {
				if dsn[i] == '\\' {
					i++
				}
			}
			i = min(i, n)
		}
		if strings.EqualFold(key, "password") && i > v {
			spans = append(spans, [2]int{v, i})
		}
	}
}
