package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/config"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
)

// adminFlags registers the flags every database command takes.
func adminFlags(env *Env, name string) (*flag.FlagSet, *string) {
	fs := flagSet(env, name)
	db := fs.String("database-url", "", "PostgreSQL URL (env DATABASE_URL)")
	programsDirFlags(fs)
	return fs, db
}

// programsDirFlags registers --programs-dir and its alias --programs, the
// folder programs are loaded from instead of the embedded ones (env
// REKINDLE_PROGRAMS_DIR); it returns the folder given, "" for none.
func programsDirFlags(fs *flag.FlagSet) func() string {
	dir := fs.String("programs-dir", "", "load programs from this folder (env REKINDLE_PROGRAMS_DIR)")
	alias := fs.String("programs", "", "same as --programs-dir")
	return func() string {
		if *dir != "" {
			return *dir
		}
		return *alias
	}
}

// adminConfig is the configuration of a database command. Its
// --database-url and --programs-dir (or --programs) stand in for
// DATABASE_URL and REKINDLE_PROGRAMS_DIR before the environment is checked,
// so a flag overrides a bad value in the environment as well as a good one.
func adminConfig(env *Env, fs *flag.FlagSet) (*config.Config, error) {
	over := map[string]string{}
	if f := fs.Lookup("database-url"); f != nil && f.Value.String() != "" {
		if err := checkDatabaseURL(f.Value.String()); err != nil {
			return nil, err
		}
		over["DATABASE_URL"] = f.Value.String()
	}
	for _, name := range []string{"programs", "programs-dir"} { // --programs-dir wins
		if f := fs.Lookup(name); f != nil && f.Value.String() != "" {
			over["REKINDLE_PROGRAMS_DIR"] = f.Value.String()
		}
	}
	cfg, err := loadConfig(&Env{Lookup: func(name string) (string, bool) {
		if v, ok := over[name]; ok {
			return v, true
		}
		return env.Lookup(name)
	}}, nil)
	if err != nil {
		return nil, err
	}
	if err := checkDatabaseURL(cfg.DatabaseURL); err != nil {
		return nil, err
	}
	return cfg, nil
}

// adminStore is the configuration and a small store for an admin command.
func adminStore(ctx context.Context, env *Env, fs *flag.FlagSet) (*store.Store, *config.Config, error) {
	cfg, err := adminConfig(env, fs)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxOpenConns: 2})
	if err != nil {
		return nil, nil, err
	}
	return st, cfg, nil
}

// checkDatabaseURL names the setting when the database address cannot be
// what lib/pq takes, instead of the driver's parse error. The value is a
// secret (it may hold a password), so it is not repeated.
func checkDatabaseURL(s string) error {
	if err := config.CheckDatabaseURL(s); err != nil {
		return fmt.Errorf("--database-url (DATABASE_URL): %w", err)
	}
	return nil
}

// checkName refuses a --name no message should carry: control characters
// (a newline would break a header) or bytes PostgreSQL would refuse.
func checkName(name string) error {
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) || utf8.RuneCountInString(name) > 100 {
		return fmt.Errorf("--name %q: want plain text of at most 100 characters", name)
	}
	return nil
}

func runMigrate(ctx context.Context, env *Env, args []string) error {
	fs, _ := adminFlags(env, "migrate")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := adminConfig(env, fs)
	if err != nil {
		return err
	}
	db, err := store.Connect(ctx, cfg.DatabaseURL, store.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := store.Migrate(ctx, db.DB)
	if err != nil {
		return err
	}
	cur, _, _ := store.SchemaVersion(ctx, db.DB)
	fmt.Fprintf(env.Stdout, "schema at version %d (%d migrations applied now)\n", cur, len(applied))
	return nil
}

// normalizeEmail checks and lower-cases an address.
func normalizeEmail(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", fmt.Errorf("--email %q is not an email address", s)
	}
	return strings.ToLower(a.Address), nil
}

// normalizePhone parses a number to E.164.
func normalizePhone(s, region string) (string, error) {
	if s == "" {
		return "", nil
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%q is not a valid phone number", s)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// textablePhone is normalizePhone for a number that is to get texts: one
// that cannot take them (a landline, toll-free, a pager...) is refused as
// the sign-up form refuses it (scheduler.Textable), instead of enrolling a
// number the lessons can never reach, or sending send-test's text where it
// cannot arrive.
func textablePhone(s, region string) (string, error) {
	p, err := normalizePhone(s, region)
	if err != nil || p == "" {
		return p, err
	}
	n, err := phonenumbers.Parse(p, "")
	if err != nil {
		return "", fmt.Errorf("%q is not a valid phone number", s)
	}
	if err := scheduler.Textable(n); err != nil {
		return "", fmt.Errorf("%q is %w; give a mobile number", s, err)
	}
	return p, nil
}

// contact checks and normalises the --email and --phone flags.
func contact(email, phone, region string) (string, string, error) {
	e, err := normalizeEmail(email)
	if err != nil {
		return "", "", err
	}
	p, err := normalizePhone(phone, region)
	if err != nil {
		return "", "", fmt.Errorf("--phone: %w", err)
	}
	return e, p, nil
}

func runEnroll(ctx context.Context, env *Env, args []string) error {
	fs, _ := adminFlags(env, "enroll")
	program := fs.String("program", "", "program slug")
	email := fs.String("email", "", "email address")
	phone := fs.String("phone", "", "phone number (E.164)")
	tz := fs.String("tz", "", "IANA time zone, e.g. Europe/Berlin")
	name := fs.String("name", "", "first name")
	start := fs.String("start", "", "start day YYYY-MM-DD or an RFC 3339 time (default: today)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *program == "" || *tz == "" || (*email == "" && *phone == "") {
		return usagef("--program, --tz and --email or --phone are required")
	}
	if err := checkName(*name); err != nil {
		return err
	}
	cfg, err := adminConfig(env, fs)
	if err != nil {
		return err
	}
	e, p, err := contact(*email, *phone, cfg.DefaultRegion)
	if err != nil {
		return err
	}
	if _, err := textablePhone(p, ""); err != nil {
		return fmt.Errorf("--phone: %w, or enroll by --email alone", err)
	}
	loc, err := scheduler.LoadZone(*tz)
	if err != nil {
		return fmt.Errorf("--tz: %w", err)
	}
	var clk clock.Clock = clock.Real{}
	var at time.Time
	if *start != "" {
		if at, err = time.Parse(time.RFC3339, *start); err != nil {
			d, derr := time.ParseInLocation("2006-01-02", *start, loc)
			if derr != nil {
				return fmt.Errorf("--start %q: want YYYY-MM-DD or RFC 3339", *start)
			}
			at = d.Add(time.Hour)
		}
		if err := checkStart(*start, at, clk.Now(), loc); err != nil {
			return err
		}
	}
	a, err := wire(ctx, env, cfg, wireOptions{clock: clk})
	if err != nil {
		return err
	}
	defer a.close()
	if err := refuseOptedOut(ctx, a.store, e, p); err != nil {
		return err
	}
	var consents []store.Consent
	if e != "" {
		consents = append(consents, store.Consent{Channel: "email", Action: "confirmed", Text: "enrolled by an operator", Source: "operator"})
	}
	if p != "" {
		consents = append(consents, store.Consent{Channel: "sms", Action: "confirmed", Text: "enrolled by an operator", Source: "operator"})
	}
	sub, id, err := a.engine.Enroll(ctx, scheduler.EnrollRequest{Program: *program, FirstName: *name, Email: e, Phone: p,
		Timezone: *tz, Start: at, Source: "operator", Consents: consents})
	if errors.Is(err, scheduler.ErrUnknownProgram) {
		return fmt.Errorf("--program %q: no such program", *program)
	}
	var clash *store.ContactError
	if errors.As(err, &clash) {
		return fmt.Errorf("--%s: %s; nothing was enrolled", clash.Field, clash.Reason)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "enrolled subscriber %d in %s (enrollment %d)\n", sub, *program, id)
	return nil
}

// refuseOptedOut refuses to enroll an address that opted out, or that a
// provider refused for good, as the sign-up form does: nothing may be sent
// to it, so the enrollment would record a consent the person withdrew and
// plan messages that are all cancelled. Both addresses are checked, and one
// blocked refuses the whole enrollment rather than half of it.
func refuseOptedOut(ctx context.Context, st *store.Store, email, phone string) error {
	sups, err := st.SuppressionsOf(ctx, email, phone)
	if err != nil || len(sups) == 0 {
		return err
	}
	var why, lift []string
	blocked := map[string]bool{}
	for _, s := range sups { // oldest first: one a channel, the first
		if blocked[s.Channel] {
			continue
		}
		blocked[s.Channel] = true
		flag, what := "--email", "email"
		if s.Channel == "sms" {
			flag, what = "--phone", "texts"
		}
		if store.ByRequest(s.Reason) {
			why = append(why, fmt.Sprintf("%s opted out of %s on %s (via %s)", flag, what, stamp(s.CreatedAt), s.Source))
		} else {
			why = append(why, fmt.Sprintf("%s was refused for good by the provider on %s (%s)", flag, stamp(s.CreatedAt), s.Reason))
		}
		switch {
		case s.Channel == "sms":
			lift = append(lift, "texts stay stopped until the person texts START to the rekindle number")
		case store.ByRequest(s.Reason):
			lift = append(lift, "if the person asks for their emails back, rekindle lift-optout --email ADDRESS --request HOW lifts it")
		default:
			lift = append(lift, "if the mailbox works again, rekindle lift-optout --email ADDRESS --request HOW lifts the block")
		}
	}
	msg := strings.Join(why, " and ") + ": nothing may be sent there, so nothing was enrolled; " + strings.Join(lift, "; ")
	switch {
	case !blocked["sms"]:
		msg += "; to enroll by text alone, give --phone without --email"
	case !blocked["email"]:
		msg += "; to enroll by email alone, give --email without --phone"
	}
	return errors.New(msg)
}

// stamp is a time for the operator to read, in UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

// startRange is how far from today enroll --start may be, either way: a
// late entry of someone who began months ago, or a start planned for later
// in the year; a day further off is a typing mistake (0001-01-01, 9999-12-31).
const startRange = 1 // years

// checkStart refuses a --start day more than startRange years before or
// after today, both in the person's zone.
func checkStart(flagValue string, at, now time.Time, loc *time.Location) error {
	day := func(t time.Time) time.Time {
		t = t.In(loc)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	}
	today := day(now)
	first, last := today.AddDate(-startRange, 0, 0), today.AddDate(startRange, 0, 0)
	if d := day(at); d.Before(first) || d.After(last) {
		return usagef("--start %q: want a day within a year of today, %s to %s", flagValue, first.Format("2006-01-02"), last.Format("2006-01-02"))
	}
	return nil
}

func runStatus(ctx context.Context, env *Env, args []string) error {
	fs, _ := adminFlags(env, "status")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	db, _, err := adminStore(ctx, env, fs)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.Status(ctx, time.Now(), false)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	w := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ENROLLMENTS\tPROGRAM\tPHASE\tSTATUS\tCOUNT")
	for _, c := range st.Enrollments {
		fmt.Fprintf(w, "\t%s\t%s\t%s\t%d\n", c.Program, c.Phase, c.Status, c.N)
	}
	fmt.Fprintln(w, "DELIVERIES\tCHANNEL\t\tSTATUS\tCOUNT")
	for _, c := range st.Deliveries {
		fmt.Fprintf(w, "\t%s\t\t%s\t%d\n", c.Channel, c.Status, c.N)
	}
	w.Flush()
	fmt.Fprintf(env.Stdout, "due now: %d enrollments (oldest %s), %d deliveries (oldest %s)\n",
		st.DueEnrollments, age(st.DueEnrollments, st.OldestDueSeconds), st.DueDeliveries, age(st.DueDeliveries, st.OldestQueuedSeconds))
	return nil
}

// age is how long the oldest of n items has waited, for a person to read:
// 45s, 12m30s, 5h07m, 3d04h.
func age(n int64, seconds float64) string {
	if n == 0 {
		return "-"
	}
	d := time.Duration(seconds * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// maxPauseDays bounds pause --days as the SMS reply bounds "PAUSE n days"
// (at most three digits), so the resume time is always a real one: a
// larger count overflowed the duration into a time in the past.
const maxPauseDays = 999

// personArgs is a command that names one person by --email or --phone.
type personArgs struct {
	cfg          *config.Config
	email, phone string // normalised; one is ""
	days         int    // --days, when asked for
}

// parsePerson reads --email or --phone (exactly one) and, withDays,
// --days, and the configuration.
func parsePerson(env *Env, name string, args []string, withDays bool) (personArgs, error) {
	fs, _ := adminFlags(env, name)
	email := fs.String("email", "", "the person's email")
	phone := fs.String("phone", "", "the person's phone")
	var days *int
	if withDays {
		days = fs.Int("days", 0, fmt.Sprintf("resume automatically after this many days, at most %d (0: until resumed)", maxPauseDays))
	}
	if err := parseNoArgs(fs, args); err != nil {
		return personArgs{}, err
	}
	if (*email == "") == (*phone == "") {
		return personArgs{}, usagef("give one of --email or --phone")
	}
	var pa personArgs
	if days != nil {
		if *days < 0 || *days > maxPauseDays {
			return personArgs{}, usagef("--days %d: want 0 (until resumed) to %d", *days, maxPauseDays)
		}
		pa.days = *days
	}
	var err error
	if pa.cfg, err = adminConfig(env, fs); err != nil {
		return personArgs{}, err
	}
	if pa.email, pa.phone, err = contact(*email, *phone, pa.cfg.DefaultRegion); err != nil {
		return personArgs{}, err
	}
	return pa, nil
}

// personCommand finds a person's live enrollments and applies fn to each.
// fn runs on the command's context: an interrupted command (rekindle turns
// SIGINT and SIGTERM into its end) stops waiting for a locked enrollment.
func personCommand(ctx context.Context, env *Env, name string, args []string, withDays bool,
	fn func(ctx context.Context, a *app, id int64, days int) (bool, error)) error {
	pa, err := parsePerson(env, name, args, withDays)
	if err != nil {
		return err
	}
	cfg, e, p := pa.cfg, pa.email, pa.phone
	a, err := wire(ctx, env, cfg, wireOptions{anyPrograms: true})
	if err != nil {
		return err
	}
	defer a.close()
	sub, err := a.store.FindSubscriber(ctx, nil, e, p)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no subscriber with that email or phone")
	}
	if err != nil {
		return err
	}
	live, err := a.store.LiveEnrollments(ctx, sub.ID)
	if err != nil {
		return err
	}
	d := pa.days
	changed := 0
	for _, l := range live {
		ok, err := fn(ctx, a, l.ID, d)
		if err != nil {
			return err
		}
		if ok {
			changed++
			fmt.Fprintf(env.Stdout, "%s: %s (enrollment %d)\n", name, l.Program, l.ID)
		}
	}
	if changed == 0 {
		return fmt.Errorf("nothing to %s: the person has no enrollment in a state that allows it", name)
	}
	return nil
}

func runPause(ctx context.Context, env *Env, args []string) error {
	return personCommand(ctx, env, "pause", args, true, func(ctx context.Context, a *app, id int64, days int) (bool, error) {
		var until *time.Time
		if days > 0 {
			u := a.clock.Now().Add(time.Duration(days) * 24 * time.Hour)
			until = &u
		}
		return a.engine.Pause(ctx, id, until)
	})
}

func runResume(ctx context.Context, env *Env, args []string) error {
	return personCommand(ctx, env, "resume", args, false, func(ctx context.Context, a *app, id int64, _ int) (bool, error) {
		return a.engine.Resume(ctx, id)
	})
}

func runUnenroll(ctx context.Context, env *Env, args []string) error {
	return personCommand(ctx, env, "unenroll", args, false, func(ctx context.Context, a *app, id int64, _ int) (bool, error) {
		return a.engine.Unenroll(ctx, id, "operator")
	})
}

func runConfig(ctx context.Context, env *Env, args []string) error {
	fs := flagSet(env, "config")
	config.Flags(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := config.PrintLookup(env.Stdout, env.Lookup, fs); err != nil {
		return err
	}
	// Checked here and where programs are loaded, not when any command
	// reads the configuration (see config.ProgramsFolder).
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return err
	}
	return programsFolderErr(cfg.ProgramsDir, fs)
}

// programsFolderErr is config.ProgramsFolder naming the setting, and the
// flag when the folder came from one.
func programsFolderErr(dir string, fs *flag.FlagSet) error {
	err := config.ProgramsFolder(dir)
	if err == nil {
		return nil
	}
	e := &config.Error{Name: "REKINDLE_PROGRAMS_DIR", Err: err}
	if fs != nil {
		for _, name := range []string{"programs-dir", "programs"} {
			if f := fs.Lookup(name); f != nil && f.Value.String() == dir && dir != "" {
				e.Flag = "--" + name
				break
			}
		}
	}
	return e
}
