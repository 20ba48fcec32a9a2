package logging

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode"
)

// deniedWords are attribute key words whose values never reach the logs:
// credentials, and message content (bodies are personal and sensitive).
var deniedWords = map[string]bool{
	"password": true, "passwd": true, "token": true, "secret": true,
	"authorization": true, "cookie": true,
	"body": true, "html": true, "text": true,
}

// DeniedKey reports whether attributes with this key are dropped. The key is
// split into words at separators and camelCase boundaries and dropped when
// any word is on the deny list (password, token, secret, body, html, text,
// and passwd, authorization, cookie): "password", "smtp_password",
// "authToken", "html_body" and "Text" are dropped; "context" and "tokens"
// are not.
func DeniedKey(key string) bool {
	for _, w := range keyWords(key) {
		if deniedWords[w] {
			return true
		}
	}
	return false
}

func keyWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(key)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			continue
		case unicode.IsUpper(r) && i > 0 && len(cur) > 0:
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// Redact wraps h so that every record's message and string attributes have
// email addresses and phone numbers masked (MaskText), errors and Stringers
// are masked in their string form, other values are masked in their printed
// form when that contains an address, and attributes (or groups) whose key
// is denied (DeniedKey) are dropped, at any depth.
func Redact(h slog.Handler) slog.Handler {
	if r, ok := h.(*redactHandler); ok {
		return r
	}
	return &redactHandler{inner: h}
}

type redactHandler struct {
	inner slog.Handler
	// drop is set below a WithGroup whose name is denied: everything in it
	// would belong to a denied key.
	drop bool
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, MaskText(r.Message), r.PC)
	if !h.drop {
		r.Attrs(func(a slog.Attr) bool {
			if a, ok := redactAttr(a); ok {
				nr.AddAttrs(a)
			}
			return true
		})
	}
	return h.inner.Handle(ctx, nr)
}

func (h *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if h.drop {
		return h
	}
	out := make([]slog.Attr, 0, len(as))
	for _, a := range as {
		if a, ok := redactAttr(a); ok {
			out = append(out, a)
		}
	}
	return &redactHandler{inner: h.inner.WithAttrs(out)}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &redactHandler{inner: h.inner.WithGroup(name), drop: h.drop || DeniedKey(name)}
}

// redactAttr returns the masked attribute, or false when it is dropped.
func redactAttr(a slog.Attr) (slog.Attr, bool) {
	if DeniedKey(a.Key) {
		return slog.Attr{}, false
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, MaskText(v.String())), true
	case slog.KindGroup:
		in := v.Group()
		out := make([]slog.Attr, 0, len(in))
		for _, ga := range in {
			if ga, ok := redactAttr(ga); ok {
				out = append(out, ga)
			}
		}
		if len(out) == 0 {
			return slog.Attr{}, false
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}, true
	case slog.KindAny:
		switch x := v.Any().(type) {
		case nil:
			return slog.Attr{Key: a.Key, Value: v}, true
		case error:
			return slog.String(a.Key, MaskText(x.Error())), true
		case fmt.Stringer:
			return slog.String(a.Key, MaskText(x.String())), true
		case []byte:
			return slog.String(a.Key, MaskText(string(x))), true
		default:
			// Keep structure unless its printed form holds an address.
			s := fmt.Sprintf("%+v", x)
			if m := MaskText(s); m != s {
				return slog.String(a.Key, m), true
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}, true
}

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)
	// An international number: "+", then 7 to 15 digits with at most two
	// separators (space, dot, dash, parentheses) between digits.
	intlPhoneRe = regexp.MustCompile(`\+\d(?:[\s().-]{0,2}\d){6,14}`)
	// A North American number written with separators: (212) 555-4567,
	// 212-555-4567, 212.555.4567, 212 555 4567.
	nanpPhoneRe = regexp.MustCompile(`(?:\(\d{3}\)\s?|\b\d{3}[-.\s])\d{3}[-.\s]\d{4}\b`)
)

// MaskText masks every email address and phone number inside s.
func MaskText(s string) string {
	if s == "" {
		return s
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = emailRe.ReplaceAllStringFunc(s, MaskEmail)
	}
	if strings.IndexByte(s, '+') >= 0 {
		s = intlPhoneRe.ReplaceAllStringFunc(s, MaskPhone)
	}
	return nanpPhoneRe.ReplaceAllStringFunc(s, MaskPhone)
}

// MaskEmail keeps the first character of the local part and the domain:
// "jane.doe@example.org" becomes "j***@example.org". A value without "@" is
// masked whole ("***").
func MaskEmail(email string) string {
	email = strings.TrimSpace(email)
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		if email == "" {
			return ""
		}
		return "***"
	}
	local, domain := email[:at], email[at+1:]
	if local == "" {
		return "***@" + domain
	}
	r := []rune(local)
	return string(r[0]) + "***@" + domain
}

// MaskPhone keeps a leading "+", the first digit and the last four digits
// and stars the others, one per digit, dropping formatting:
// "+1 (212) 555-4567" becomes "+1******4567". Numbers of fewer than seven
// digits are starred whole.
func MaskPhone(phone string) string {
	phone = strings.TrimSpace(phone)
	var digits []byte
	for i := 0; i < len(phone); i++ {
		if c := phone[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	plus := ""
	if strings.HasPrefix(phone, "+") {
		plus = "+"
	}
	if len(digits) < 7 {
		if len(digits) == 0 {
			if phone == "" {
				return ""
			}
			return "***"
		}
		return plus + strings.Repeat("*", len(digits))
	}
	n := len(digits)
	return plus + string(digits[0]) + strings.Repeat("*", n-5) + string(digits[n-4:])
}

// MaskAddress masks a delivery address of either kind: an email address
// (contains "@") with MaskEmail, a phone number with MaskPhone, anything
// holding one (e.g. "whatsapp:+12125554567") with MaskText; any other
// non-empty value is masked whole ("***").
func MaskAddress(s string) string {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return ""
	case emailRe.MatchString(t) && emailRe.FindString(t) == t:
		return MaskEmail(t)
	case isPhone(t):
		return MaskPhone(t)
	}
	if m := MaskText(t); m != t {
		return m
	}
	return "***"
}

// isPhone reports whether s is only a phone number: an optional leading "+",
// digits and formatting characters, with 7 to 15 digits.
func isPhone(s string) bool {
	n := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return n >= 7 && n <= 15
}
