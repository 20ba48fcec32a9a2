// Package config is rekindle's one table of settings: every environment
// variable with its default, whether it is a secret, and how it is checked.
// Flags override the environment; secrets may also come from NAME_FILE or a
// systemd credential ($CREDENTIALS_DIRECTORY/<credential>).
//
// A variable set to the empty string is the same as an unset one (the
// default applies), except for the rows marked EmptyOK, where empty is a
// documented value meaning "none": REKINDLE_QUIET_HOURS= disables SMS quiet
// hours. Telling the two apart needs os.LookupEnv semantics (LoadLookup).
// A flag given as "" (--listen=) is read as the empty variable would be.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rekindle/rekindle/smsseg"
)

// Config is the effective configuration.
type Config struct {
	DatabaseURL      string
	Listen           string
	BaseURL          string
	LogFormat        string
	LogLevel         string
	Tick             time.Duration
	OutboxDir        string
	ProgramsDir      string
	TemplatesDir     string
	QuietHours       string
	EmailQuietHours  string
	CatchupGrace     time.Duration
	Pacing           time.Duration
	Lease            time.Duration
	RetryBase        time.Duration
	RetryFor         time.Duration
	SMTPHost         string
	SMTPPort         int
	SMTPUsername     string
	SMTPPassword     string
	SMTPTLS          string
	EmailFrom        string
	EmailReplyTo     string
	UnsubMailto      string
	EmailRate        float64
	EmailWorkers     int
	Planners         int
	ClaimLoops       int
	SMTPTimeout      time.Duration
	TwilioAccountSID string
	TwilioAuthToken  string
	TwilioAPIKey     string
	TwilioAPISecret  string
	TwilioFrom       string
	TwilioMsgService string
	TwilioAPIURL     string
	SMSRate          float64
	TwilioTimeout    time.Duration
	SecretKey        string
	DefaultRegion    string
	TrustedProxies   string
	SMSBrand         string
	PostalAddress    string
	SupportContact   string
	SupportResources string
	ReplyRetention   time.Duration
	ShutdownTimeout  time.Duration
	AutoMigrate      bool
}

// Var is one row of the table.
type Var struct {
	Name       string
	Default    string
	Secret     bool
	Credential string // systemd credential name for secrets
	// Alias is a second flag name for the setting (REKINDLE_PROGRAMS_DIR is
	// --programs-dir or --programs, as the other commands take it).
	Alias string
	// Show is how `rekindle config` prints a secret's value; nil prints
	// ******** for any value. DATABASE_URL shows all but its password.
	Show func(string) string
	Help string
	// EmptyOK: the variable set to the empty string means "none" (the value
	// is empty) instead of "use the default". See the comment on Table.
	EmptyOK bool
	// Trim: leading and trailing spaces are dropped before the value is
	// checked, used and printed (" smtp.example.org" is smtp.example.org).
	Trim bool
	set  func(c *Config, v string) error
}

func str(f func(*Config) *string, check ...func(string) error) func(*Config, string) error {
	return func(c *Config, v string) error {
		for _, ch := range check {
			if err := ch(v); err != nil {
				return err
			}
		}
		*f(c) = v
		return nil
	}
}

func dur(f func(*Config) *time.Duration, min time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 10s, 6h)", v)
		}
		if d < min {
			return fmt.Errorf("%s is below the minimum %s", d, min)
		}
		*f(c) = d
		return nil
	}
}

// durBetween is dur with an upper bound too; maxName says the bound in
// words (168h is "7 days").
func durBetween(f func(*Config) *time.Duration, min, max time.Duration, maxName string) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 30m, 24h)", v)
		}
		if d < min || d > max {
			return fmt.Errorf("%s is outside the allowed range: at least %s, at most %s (%s)", v, fmtDur(min), fmtDur(max), maxName)
		}
		*f(c) = d
		return nil
	}
}

// fmtDur writes a whole number of hours or minutes the way an operator
// types it (168h, 1m), not time.Duration's 168h0m0s.
func fmtDur(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// Messages per second: REKINDLE_EMAIL_RATE and REKINDLE_SMS_RATE. The
// least is one message every 100 seconds: a claimed message waits up to
// 1/rate for its turn, and a wait much longer would outlast the lease (2m by
// default), so that another instance sends it too. The most is far beyond
// any provider's limit, and keeps the limiter's burst a whole number.
const (
	minRate = 0.01
	maxRate = 1e6
)

// rate reads a number of messages per second: finite (not NaN or Inf), from
// minRate to maxRate.
func rate(f func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < minRate || x > maxRate {
			return fmt.Errorf("%q: want messages per second, a number from %s (one every 100 seconds) to %s", v,
				strconv.FormatFloat(minRate, 'f', -1, 64), strconv.FormatFloat(maxRate, 'f', -1, 64))
		}
		*f(c) = x
		return nil
	}
}

func integer(f func(*Config) *int, lo, hi int) func(*Config, string) error {
	return func(c *Config, v string) error {
		x, err := strconv.Atoi(v)
		if err != nil || x < lo || x > hi {
			return fmt.Errorf("%q is not a whole number from %d to %d", v, lo, hi)
		}
		*f(c) = x
		return nil
	}
}

func oneOf(opts ...string) func(string) error {
	return func(v string) error {
		for _, o := range opts {
			if v == o {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(opts, ", "))
	}
}

func optional(check func(string) error) func(string) error {
	return func(v string) error {
		if v == "" {
			return nil
		}
		return check(v)
	}
}

func httpURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", v)
	}
	return nil
}

// baseURL is an http(s) URL that paths are appended to (BASE + "/subscribe/x"),
// so it may not carry a query or a fragment: the path would land inside it.
func baseURL(v string) error {
	if err := httpURL(v); err != nil {
		return err
	}
	if strings.ContainsAny(v, "?#") {
		return fmt.Errorf("%q: want the public URL without a query (?...) or fragment (#...), e.g. https://example.org or https://example.org/path: links are made by adding paths to it", v)
	}
	return nil
}

// listenAddr is host:port as net.Listen takes it: a port from 0 (any free
// one) to 65535, and a host that is empty (every interface), an IP address
// or a host name.
func listenAddr(v string) error {
	bad := fmt.Errorf("%q: want host:port with a port from 0 to 65535, e.g. 127.0.0.1:8080 (or :8080 for every interface)", v)
	host, port, err := net.SplitHostPort(v)
	if err != nil || port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return bad
	}
	if n, _ := strconv.Atoi(port); n > 65535 {
		return bad
	}
	if _, err := netip.ParseAddr(host); err != nil && host != "" && !hostName(host) {
		return bad
	}
	return nil
}

// hostName is letters, digits, hyphens and dots.
func hostName(h string) bool {
	return h != "" && strings.Trim(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == ""
}

// folder is a directory that exists; the error names the folder, not the
// path twice as os.Stat's does.
// ProgramsFolder checks the value of REKINDLE_PROGRAMS_DIR, in the words
// the program loader uses for the folder ("" is the embedded programs). It
// is not part of reading the configuration: the commands that plan nothing
// (pause, unsubscribe, ...) go on without programs, so that an opt-out is
// never held up by them; `config` and the commands that need programs
// call it.
func ProgramsFolder(v string) error {
	if v == "" {
		return nil
	}
	st, err := os.Stat(v)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("programs folder %s: no such folder (want the folder that holds program.yaml, or a folder of program folders; "+
			"leave it empty for the embedded ones)", v)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("programs folder %s: cannot read it: %v", v, err)
	case !st.IsDir():
		return fmt.Errorf("programs folder %s: not a folder; give the folder that holds program.yaml, or a folder of program folders", v)
	}
	return nil
}

func folder(v string) error {
	st, err := os.Stat(v)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%q: no such folder (want an existing folder, or leave it empty for the embedded ones)", v)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%q: cannot read the folder: %v", v, err)
	case !st.IsDir():
		return fmt.Errorf("%q is a file, not a folder", v)
	}
	return nil
}

func address(v string) error {
	if _, err := mail.ParseAddress(v); err != nil {
		return fmt.Errorf("%q is not an email address", v)
	}
	return nil
}

// bareAddress accepts name@domain alone, as it goes into a mailto: URI.
func bareAddress(v string) error {
	if a, err := mail.ParseAddress(v); err != nil || a.Name != "" || a.Address != v {
		return fmt.Errorf("%q is not a plain email address (write it as name@example.org)", v)
	}
	return nil
}

// quiet checks the quiet hours of the setting name: HH:MM-HH:MM, two
// different times (the same start and end could mean no quiet hours or all
// day; the scheduler would read none).
func quiet(name string) func(string) error {
	return func(v string) error {
		a, b, ok := strings.Cut(v, "-")
		if !ok || len(a) != 5 || len(b) != 5 || a[2] != ':' || b[2] != ':' {
			return fmt.Errorf("%q: want HH:MM-HH:MM", v)
		}
		for _, x := range []string{a, b} {
			h, e1 := strconv.Atoi(x[:2])
			m, e2 := strconv.Atoi(x[3:])
			if e1 != nil || e2 != nil || h > 23 || m > 59 {
				return fmt.Errorf("%q: want HH:MM-HH:MM", v)
			}
		}
		if a == b {
			return fmt.Errorf("%q starts and ends at the same time: want two different times (HH:MM-HH:MM); "+
				"for no quiet hours set it to nothing (%s= or --%s=)", v, name, FlagName(name))
		}
		return nil
	}
}

func minLen(n int) func(string) error {
	return func(v string) error {
		if len(v) < n {
			return fmt.Errorf("must be at least %d characters, random (head -c %d /dev/urandom | base64 makes one); this one has %d", n, n, len(v))
		}
		return nil
	}
}

// Table is every setting rekindle reads.
//
// EmptyOK is set only where the help says empty means none or off: the two
// quiet-hours settings, REKINDLE_SMTP_HOST and TWILIO_ACCOUNT_SID (empty: no
// provider, the file channel) and REKINDLE_UNSUBSCRIBE_MAILTO. Of these only
// REKINDLE_QUIET_HOURS has a non-empty default, so it is the one whose value
// changes; for the others it only makes Source say "env". Everywhere else an
// empty variable still means the default, on purpose (and so does an empty
// flag, --listen=, which load treats as not given):
//   - durations, numbers, REKINDLE_SMTP_PORT, REKINDLE_AUTO_MIGRATE, the
//     one-of settings (log format and level, SMTP TLS), URLs,
//     REKINDLE_EMAIL_FROM and REKINDLE_DEFAULT_REGION: empty is not a valid
//     value, and systemd/rekindle.env.example invites lines such as
//     "REKINDLE_BASE_URL=" that an operator may uncomment unfilled;
//   - REKINDLE_LISTEN, REKINDLE_OUTBOX_DIR: an empty address (every
//     interface, a random port) or folder is no sensible reading of an
//     empty line;
//   - REKINDLE_SMS_BRAND: every SMS and opt-in/opt-out reply must name the
//     sender, so empty must not silently drop the brand;
//   - secrets (DATABASE_URL among them): empty falls through to NAME_FILE and the systemd credential
//     (a unit may carry "REKINDLE_SMTP_PASSWORD=" while the credential holds
//     the password), then to the default;
//   - the remaining settings default to empty, so empty and unset agree.
var Table = []Var{
	{Name: "DATABASE_URL", Default: "postgres://postgres@127.0.0.1:5432/rekindle?sslmode=disable", Secret: true, Credential: "database-url",
		Show: func(v string) string { return RedactDatabaseURL(v, "********") }, Help: "PostgreSQL connection URL",
		set: str(func(c *Config) *string { return &c.DatabaseURL }, CheckDatabaseURL)},
	{Name: "REKINDLE_LISTEN", Default: "127.0.0.1:8080", Help: "HTTP listen address, host:port",
		set: str(func(c *Config) *string { return &c.Listen }, listenAddr)},
	{Name: "REKINDLE_BASE_URL", Default: "http://127.0.0.1:8080", Help: "public URL for links and webhook signatures (no query or fragment)",
		set: str(func(c *Config) *string { return &c.BaseURL }, baseURL)},
	{Name: "REKINDLE_LOG_FORMAT", Default: "text", Help: "text or json",
		set: str(func(c *Config) *string { return &c.LogFormat }, oneOf("text", "json"))},
	{Name: "REKINDLE_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error",
		set: str(func(c *Config) *string { return &c.LogLevel }, oneOf("debug", "info", "warn", "error"))},
	{Name: "REKINDLE_TICK", Default: "10s", Help: "how often idle planner and dispatchers look for due work",
		set: dur(func(c *Config) *time.Duration { return &c.Tick }, time.Millisecond)},
	{Name: "REKINDLE_OUTBOX_DIR", Default: "./outbox", Help: "folder of the file channel",
		set: str(func(c *Config) *string { return &c.OutboxDir })},
	{Name: "REKINDLE_PROGRAMS_DIR", Default: "", Alias: "programs", Help: "load programs from this folder instead of the embedded ones",
		set: str(func(c *Config) *string { return &c.ProgramsDir })},
	{Name: "REKINDLE_TEMPLATES_DIR", Default: "", Help: "load templates from this folder instead of the embedded ones",
		set: str(func(c *Config) *string { return &c.TemplatesDir }, optional(folder))},
	{Name: "REKINDLE_QUIET_HOURS", Default: "21:00-08:00", EmptyOK: true, Help: "SMS quiet hours, recipient-local; empty for none",
		set: str(func(c *Config) *string { return &c.QuietHours }, optional(quiet("REKINDLE_QUIET_HOURS")))},
	{Name: "REKINDLE_EMAIL_QUIET_HOURS", Default: "", EmptyOK: true, Help: "email quiet hours; empty for none",
		set: str(func(c *Config) *string { return &c.EmailQuietHours }, optional(quiet("REKINDLE_EMAIL_QUIET_HOURS")))},
	{Name: "REKINDLE_CATCHUP_GRACE", Default: "6h", Help: "a step later than this is stale: the calendar shifts",
		set: dur(func(c *Config) *time.Duration { return &c.CatchupGrace }, time.Minute)},
	{Name: "REKINDLE_PACING", Default: "20h", Help: "at most one lesson per channel per interval",
		set: dur(func(c *Config) *time.Duration { return &c.Pacing }, 0)},
	{Name: "REKINDLE_LEASE", Default: "2m", Help: "how long a claimed delivery is held before another worker may take it over (a crashed instance's sends resume after this)",
		set: dur(func(c *Config) *time.Duration { return &c.Lease }, time.Second)},
	{Name: "REKINDLE_PLANNERS", Default: "2", Help: "planner loops per instance: one renders while another waits for the database",
		set: integer(func(c *Config) *int { return &c.Planners }, 1, 16)},
	{Name: "REKINDLE_CLAIM_LOOPS", Default: "2", Help: "claim loops per channel without a rate limit (a rate-limited channel has one)",
		set: integer(func(c *Config) *int { return &c.ClaimLoops }, 1, 16)},
	{Name: "REKINDLE_RETRY_BASE", Default: "30s", Help: "first retry delay after a temporary provider error, doubling up to 1h",
		set: dur(func(c *Config) *time.Duration { return &c.RetryBase }, 100*time.Millisecond)},
	{Name: "REKINDLE_RETRY_FOR", Default: "24h", Help: "how long a message is retried through temporary provider errors (an SMTP or Twilio outage) before it is marked failed; 1m to 168h (7 days)",
		set: durBetween(func(c *Config) *time.Duration { return &c.RetryFor }, time.Minute, 7*24*time.Hour, "7 days")},
	{Name: "REKINDLE_SMTP_HOST", Default: "", EmptyOK: true, Trim: true, Help: "SMTP server; empty uses the file channel for email",
		set: str(func(c *Config) *string { return &c.SMTPHost })},
	{Name: "REKINDLE_SMTP_PORT", Default: "587", Help: "SMTP port",
		set: integer(func(c *Config) *int { return &c.SMTPPort }, 1, 65535)},
	{Name: "REKINDLE_SMTP_USERNAME", Default: "", Help: "SMTP user",
		set: str(func(c *Config) *string { return &c.SMTPUsername })},
	{Name: "REKINDLE_SMTP_PASSWORD", Default: "", Secret: true, Credential: "smtp-password", Help: "SMTP password",
		set: str(func(c *Config) *string { return &c.SMTPPassword })},
	{Name: "REKINDLE_SMTP_TLS", Default: "starttls", Help: "none, starttls or tls",
		set: str(func(c *Config) *string { return &c.SMTPTLS }, oneOf("none", "starttls", "tls"))},
	{Name: "REKINDLE_EMAIL_FROM", Default: "Rekindle <rekindle@localhost>", Help: "From address",
		set: str(func(c *Config) *string { return &c.EmailFrom }, address)},
	{Name: "REKINDLE_EMAIL_REPLY_TO", Default: "", Help: "Reply-To address",
		set: str(func(c *Config) *string { return &c.EmailReplyTo }, optional(address))},
	{Name: "REKINDLE_UNSUBSCRIBE_MAILTO", Default: "", EmptyOK: true, Help: "mailbox for mailto: unsubscribe requests in List-Unsubscribe (you process it; rekindle reads no mail); empty for none",
		set: str(func(c *Config) *string { return &c.UnsubMailto }, optional(bareAddress))},
	{Name: "REKINDLE_EMAIL_RATE", Default: "10", Help: "emails per second, per instance",
		set: rate(func(c *Config) *float64 { return &c.EmailRate })},
	{Name: "REKINDLE_EMAIL_WORKERS", Default: "4", Help: "SMTP connections per instance",
		set: integer(func(c *Config) *int { return &c.EmailWorkers }, 1, 64)},
	{Name: "REKINDLE_SMTP_TIMEOUT", Default: "30s", Help: "SMTP connect and per-message timeout",
		set: dur(func(c *Config) *time.Duration { return &c.SMTPTimeout }, 100*time.Millisecond)},
	{Name: "TWILIO_ACCOUNT_SID", Default: "", EmptyOK: true, Help: "Twilio account SID; empty uses the file channel for SMS",
		set: str(func(c *Config) *string { return &c.TwilioAccountSID })},
	{Name: "TWILIO_AUTH_TOKEN", Default: "", Secret: true, Credential: "twilio-auth-token", Help: "Twilio auth token",
		set: str(func(c *Config) *string { return &c.TwilioAuthToken })},
	{Name: "TWILIO_API_KEY", Default: "", Help: "Twilio API key (instead of the auth token)",
		set: str(func(c *Config) *string { return &c.TwilioAPIKey })},
	{Name: "TWILIO_API_SECRET", Default: "", Secret: true, Credential: "twilio-api-secret", Help: "Twilio API key secret",
		set: str(func(c *Config) *string { return &c.TwilioAPISecret })},
	{Name: "REKINDLE_TWILIO_FROM", Default: "", Help: "sending number (E.164, e.g. +12025550100) or short code; not an alphanumeric sender ID, which nobody can reply to",
		set: str(func(c *Config) *string { return &c.TwilioFrom })},
	{Name: "REKINDLE_TWILIO_MESSAGING_SERVICE_SID", Default: "", Help: "messaging service (instead of a From number)",
		set: str(func(c *Config) *string { return &c.TwilioMsgService })},
	{Name: "REKINDLE_TWILIO_API_URL", Default: "https://api.twilio.com", Help: "Twilio API base URL (tests, proxies)",
		set: str(func(c *Config) *string { return &c.TwilioAPIURL }, httpURL)},
	{Name: "REKINDLE_SMS_RATE", Default: "1", Help: "SMS per second, per instance",
		set: rate(func(c *Config) *float64 { return &c.SMSRate })},
	{Name: "REKINDLE_TWILIO_TIMEOUT", Default: "10s", Help: "Twilio per-request timeout",
		set: dur(func(c *Config) *time.Duration { return &c.TwilioTimeout }, 100*time.Millisecond)},
	{Name: "REKINDLE_SECRET_KEY", Default: "", Secret: true, Credential: "secret-key", Help: "signs link tokens (32+ random characters, the same on every instance)",
		set: str(func(c *Config) *string { return &c.SecretKey }, optional(minLen(32)))},
	{Name: "REKINDLE_DEFAULT_REGION", Default: "US", Help: "region for phone numbers without a country code (upper case, e.g. GB)",
		set: str(func(c *Config) *string { return &c.DefaultRegion }, region)},
	{Name: "REKINDLE_TRUSTED_PROXIES", Default: "", EmptyOK: true, Help: "reverse proxies whose X-Forwarded-For names the client (addresses or CIDRs, comma-separated); empty: the connection's address is the client's",
		set: str(func(c *Config) *string { return &c.TrustedProxies }, proxies)},
	{Name: "REKINDLE_SMS_BRAND", Default: "Rekindle", Help: "prefix of every SMS",
		set: str(func(c *Config) *string { return &c.SMSBrand })},
	{Name: "REKINDLE_POSTAL_ADDRESS", Default: "", Help: "sender's postal address for email footers",
		set: str(func(c *Config) *string { return &c.PostalAddress })},
	{Name: "REKINDLE_SUPPORT_CONTACT", Default: "", Help: "where subscribers get help (HELP replies, footers)",
		set: str(func(c *Config) *string { return &c.SupportContact })},
	{Name: "REKINDLE_SUPPORT_RESOURCES", Default: "", Help: "support resources (Markdown) for the low-mood message",
		set: str(func(c *Config) *string { return &c.SupportResources })},
	{Name: "REKINDLE_REPLY_RETENTION", Default: "4320h", Help: "keep check-in reply text this long",
		set: dur(func(c *Config) *time.Duration { return &c.ReplyRetention }, time.Hour)},
	{Name: "REKINDLE_SHUTDOWN_TIMEOUT", Default: "20s", Help: "finish in-flight sends within this on SIGTERM",
		set: dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, 0)},
	{Name: "REKINDLE_AUTO_MIGRATE", Default: "true", Help: "apply migrations when serve starts",
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			c.AutoMigrate = b
			return nil
		}},
}

// Rules are the checks between settings, each naming the setting to fix: a
// provider that is configured must be configured completely, so that
// `rekindle config` and `serve` refuse what would otherwise fail later (at
// the first send, or at every Twilio webhook). They run on the values
// valid on their own, all in one pass with them (Load reports every problem
// at once); an unset provider is not checked.
var Rules = []struct {
	Name  string // the setting the error names
	Check func(c *Config) error
}{
	{"TWILIO_ACCOUNT_SID", func(c *Config) error {
		if c.TwilioAccountSID != "" && (!strings.HasPrefix(c.TwilioAccountSID, "AC") || !alnum(c.TwilioAccountSID)) {
			return fmt.Errorf("%q: want the account SID from the Twilio console (AC followed by letters and digits)", c.TwilioAccountSID)
		}
		return nil
	}},
	{"TWILIO_AUTH_TOKEN", func(c *Config) error {
		switch {
		case c.TwilioAccountSID != "" && c.TwilioAuthToken == "":
			return errors.New("required with TWILIO_ACCOUNT_SID, also when TWILIO_API_KEY sends: Twilio signs every webhook " +
				"(inbound SMS, STOP, delivery reports) with the account's auth token, and without it each one is refused (403)")
		case c.TwilioAccountSID != "" && !alnum(c.TwilioAuthToken):
			return errors.New("may hold only letters and digits")
		}
		return nil
	}},
	{"TWILIO_API_SECRET", func(c *Config) error {
		switch {
		case c.TwilioAccountSID != "" && c.TwilioAPIKey != "" && c.TwilioAPISecret == "":
			return errors.New("required with TWILIO_API_KEY")
		case c.TwilioAccountSID != "" && c.TwilioAPISecret != "" && !alnum(c.TwilioAPISecret):
			return errors.New("may hold only letters and digits")
		}
		return nil
	}},
	{"TWILIO_API_KEY", func(c *Config) error {
		switch {
		case c.TwilioAccountSID != "" && c.TwilioAPISecret != "" && c.TwilioAPIKey == "":
			return errors.New("required with TWILIO_API_SECRET")
		case c.TwilioAccountSID != "" && c.TwilioAPIKey != "" && (!strings.HasPrefix(c.TwilioAPIKey, "SK") || !alnum(c.TwilioAPIKey)):
			return fmt.Errorf("%q: want the API key SID (SK followed by letters and digits)", c.TwilioAPIKey)
		}
		return nil
	}},
	{"REKINDLE_TWILIO_FROM", func(c *Config) error {
		switch {
		case c.TwilioAccountSID != "" && c.TwilioFrom == "" && c.TwilioMsgService == "":
			return errors.New("required with TWILIO_ACCOUNT_SID: the number texts come from (+15555550100), or set REKINDLE_TWILIO_MESSAGING_SERVICE_SID instead")
		case strings.ContainsAny(c.TwilioFrom, "\r\n"):
			return errors.New("must be one line")
		case c.TwilioAccountSID != "" && alphaSender(c.TwilioFrom):
			// Twilio would send from it, but nobody can text back: no YES
			// to confirm, no STOP, HELP or check-in answer would arrive.
			return fmt.Errorf("%q is an alphanumeric sender ID, which people cannot reply to, and rekindle needs their replies "+
				"(YES to confirm, STOP, HELP, check-in answers): use a number in E.164 (+12025550100), a short code, "+
				"or REKINDLE_TWILIO_MESSAGING_SERVICE_SID", c.TwilioFrom)
		case c.TwilioAccountSID != "" && c.TwilioFrom != "" && !twilioSender(c.TwilioFrom):
			return fmt.Errorf("%q: want the number texts come from in E.164, + and 8 to 15 digits without spaces (+12025550100); "+
				"or a short code (5 or 6 digits) or a messaging service SID (MG followed by letters and digits)", c.TwilioFrom)
		}
		return nil
	}},
	{"REKINDLE_TWILIO_MESSAGING_SERVICE_SID", func(c *Config) error {
		if m := c.TwilioMsgService; c.TwilioAccountSID != "" && m != "" && (!strings.HasPrefix(m, "MG") || !alnum(m)) {
			return fmt.Errorf("%q: want a messaging service SID (MG followed by letters and digits)", m)
		}
		return nil
	}},
	{"REKINDLE_SMS_BRAND", func(c *Config) error {
		// It starts every text: one character outside GSM-7 would send
		// every text as UCS-2 (70 characters a segment, not 160), and a
		// long one pushes lessons into more segments.
		for _, r := range c.SMSBrand {
			if !smsseg.IsGSM(r) {
				return fmt.Errorf("%q: %q is not in the GSM-7 alphabet of SMS, so every text would be sent as UCS-2; use plain quotes and hyphens", c.SMSBrand, r)
			}
		}
		// Counted as SMS counts it: [ ] { } and a few others take two.
		if n := smsseg.Count(c.SMSBrand).Units; n > maxSMSBrand {
			return fmt.Errorf("%q: %d characters as SMS counts them; at most %d, as it starts every text", c.SMSBrand, n, maxSMSBrand)
		}
		return nil
	}},
	{"REKINDLE_SMTP_HOST", func(c *Config) error {
		if h := strings.TrimSpace(c.SMTPHost); h != "" && strings.ContainsAny(h, " /:@") && net.ParseIP(h) == nil {
			return fmt.Errorf("%q: want a host name or IP address, without scheme or port (the port is REKINDLE_SMTP_PORT)", c.SMTPHost)
		}
		return nil
	}},
	{"REKINDLE_SMTP_PASSWORD", func(c *Config) error {
		if c.SMTPHost != "" && c.SMTPUsername != "" && c.SMTPPassword == "" {
			return errors.New("required with REKINDLE_SMTP_USERNAME")
		}
		return nil
	}},
	{"REKINDLE_SMTP_USERNAME", func(c *Config) error {
		if c.SMTPHost != "" && c.SMTPPassword != "" && c.SMTPUsername == "" {
			return errors.New("required with REKINDLE_SMTP_PASSWORD")
		}
		return nil
	}},
	{"REKINDLE_SMTP_TLS", func(c *Config) error {
		h := strings.TrimSpace(c.SMTPHost)
		ip := net.ParseIP(h)
		if h != "" && c.SMTPUsername != "" && c.SMTPTLS == "none" && h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("none would send the SMTP password in clear to %s; use starttls or tls", h)
		}
		return nil
	}},
}

// maxSMSBrand bounds REKINDLE_SMS_BRAND, which starts every text.
const maxSMSBrand = 24

// twilioSender is a From people can reply to: a number in E.164, a short
// code or a messaging service SID.
func twilioSender(s string) bool {
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	switch {
	case strings.HasPrefix(s, "+"):
		n := s[1:]
		return digits(n) && n[0] != '0' && len(n) >= 8 && len(n) <= 15
	case digits(s):
		return len(s) == 5 || len(s) == 6
	}
	return strings.HasPrefix(s, "MG") && alnum(s) && len(s) > 11
}

// alphaSender is an alphanumeric sender ID (letters, digits, spaces and
// - _ & +, with a letter, at most 11 characters): Twilio sends from one
// where the destination allows it, but it cannot receive a reply.
func alphaSender(s string) bool {
	return s != "" && !twilioSender(s) && len(s) <= 11 &&
		strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_&+") == "" &&
		strings.ContainsAny(strings.ToLower(s), "abcdefghijklmnopqrstuvwxyz") && strings.TrimSpace(s) == s
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9') {
			return false
		}
	}
	return s != ""
}

// FlagName is the command-line flag for a variable: REKINDLE_SMTP_HOST is
// --smtp-host.
func FlagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "REKINDLE_")), "_", "-")
}

// Source says where each effective value came from.
type Source map[string]string

// Error names the variable whose value is bad, and the flag when the value
// came from one.
type Error struct {
	Name string
	Flag string // "--listen" when the value was given as that flag, else ""
	Err  error
}

func (e *Error) Error() string {
	if e.Flag != "" {
		return fmt.Sprintf("config: %s (%s): %v", e.Name, e.Flag, e.Err)
	}
	return fmt.Sprintf("config: %s: %v", e.Name, e.Err)
}
func (e *Error) Unwrap() error { return e.Err }

// Lookup reads one environment variable with os.LookupEnv's semantics: ok is
// false when the variable is unset, true when it is set, even to "".
type Lookup func(name string) (value string, ok bool)

// Getenv adapts a getenv function, which cannot tell an empty variable from
// an unset one: every empty variable counts as unset.
func Getenv(getenv func(string) string) Lookup {
	return func(name string) (string, bool) {
		v := getenv(name)
		return v, v != ""
	}
}

// Load is LoadLookup(Getenv(getenv), fs): with a plain getenv an empty
// variable counts as unset, so REKINDLE_QUIET_HOURS= keeps the default. Pass
// os.LookupEnv to LoadLookup to honour it.
func Load(getenv func(string) string, fs *flag.FlagSet) (*Config, Source, error) {
	return LoadLookup(Getenv(getenv), fs)
}

// LoadLookup builds the configuration from defaults, the environment (and
// secret files), then the flags set on fs (registered with Flags). A flag
// given as "" is treated as an empty variable: where empty means the default
// (every row but the EmptyOK ones), it is as if the flag were not given, so
// --listen= does not listen on a random port of every interface. Every bad
// value is reported, the first one in the error.
func LoadLookup(lookup Lookup, fs *flag.FlagSet) (*Config, Source, error) {
	c, src, _, err := load(lookup, fs)
	return c, src, err
}

// load also returns each variable's effective text, for Print.
func load(lookup Lookup, fs *flag.FlagSet) (*Config, Source, map[string]string, error) {
	c := &Config{}
	src := Source{}
	vals := map[string]string{}
	setFlags := map[string]string{}
	if fs != nil {
		fs.Visit(func(f *flag.Flag) { setFlags[f.Name] = f.Value.String() })
	}
	flagOf := map[string]string{} // variable -> the flag its value came from
	var errs []error
	for _, v := range Table {
		val, from := v.Default, "default"
		if s, ok := lookup(v.Name); ok && (s != "" || v.EmptyOK) {
			val, from = s, "env"
		} else if v.Secret {
			if s, where, err := secretFrom(lookup, v); err != nil {
				errs = append(errs, &Error{Name: v.Name, Err: err})
				continue
			} else if where != "" {
				val, from = s, where
			}
		}
		for _, name := range []string{FlagName(v.Name), v.Alias} {
			if f, ok := setFlags[name]; ok && name != "" && (f != "" || v.EmptyOK) {
				val, from = f, "flag"
				flagOf[v.Name] = "--" + name
				break
			}
		}
		if v.Trim {
			val = strings.TrimSpace(val)
		}
		if err := v.set(c, val); err != nil {
			errs = append(errs, &Error{Name: v.Name, Flag: flagOf[v.Name], Err: err})
			continue
		}
		src[v.Name] = from
		vals[v.Name] = val
	}
	// The rules run also when a value was refused, so that one run names
	// every setting to fix; a refused value is left at its zero value,
	// which no rule takes for a configured provider, and a rule about a
	// setting already refused would only name it twice.
	failed := map[string]bool{}
	for _, err := range errs {
		var e *Error
		if errors.As(err, &e) {
			failed[e.Name] = true
		}
	}
	for _, r := range Rules {
		if failed[r.Name] {
			continue
		}
		if err := r.Check(c); err != nil {
			errs = append(errs, &Error{Name: r.Name, Flag: flagOf[r.Name], Err: err})
		}
	}
	if len(errs) > 0 {
		return nil, nil, nil, errors.Join(errs...)
	}
	return c, src, vals, nil
}

// secretFrom reads NAME_FILE or $CREDENTIALS_DIRECTORY/<credential> (an
// empty credential file counts as none).
func secretFrom(lookup Lookup, v Var) (string, string, error) {
	if p, _ := lookup(v.Name + "_FILE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", "", fmt.Errorf("%s_FILE: %w", v.Name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), "file", nil
	}
	if dir, _ := lookup("CREDENTIALS_DIRECTORY"); dir != "" && v.Credential != "" {
		b, err := os.ReadFile(filepath.Join(dir, v.Credential))
		if err == nil {
			// An empty credential is an unset one: the unit loads a file
			// for every secret, and the ones not used stay empty.
			if s := strings.TrimRight(string(b), "\r\n"); s != "" {
				return s, "credential", nil
			}
			return "", "", nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("credential %s: %w", v.Credential, err)
		}
	}
	return "", "", nil
}

// Flags registers one flag per variable on fs (values are read by Load).
func Flags(fs *flag.FlagSet) {
	for _, v := range Table {
		fs.String(FlagName(v.Name), "", v.Help+" (env "+v.Name+")")
		if v.Alias != "" {
			fs.String(v.Alias, "", "same as --"+FlagName(v.Name))
		}
	}
}

// Print is PrintLookup(w, Getenv(getenv), fs).
func Print(w io.Writer, getenv func(string) string, fs *flag.FlagSet) error {
	return PrintLookup(w, Getenv(getenv), fs)
}

// PrintLookup writes the effective configuration, secrets masked: the very
// values LoadLookup uses, with their source.
func PrintLookup(w io.Writer, lookup Lookup, fs *flag.FlagSet) error {
	_, src, vals, err := load(lookup, fs)
	if err != nil {
		return err
	}
	for _, v := range Table {
		val := vals[v.Name]
		if v.Secret && val != "" {
			if v.Show != nil {
				val = v.Show(val)
			} else {
				val = "********"
			}
		}
		fmt.Fprintf(w, "%s=%s\t# %s\n", v.Name, val, src[v.Name])
	}
	return nil
}
