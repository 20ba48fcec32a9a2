package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/config"
	"github.com/rekindle/rekindle/logging"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
	"github.com/rekindle/rekindle/templates"
	"github.com/rekindle/rekindle/token"
)

// app is everything a running rekindle is wired from.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	clock    clock.Clock
	store    *store.Store
	engine   *scheduler.Engine
	links    *token.Links
	signer   *token.Signer
	progs    map[string]*programs.Program
	channels []channel.Channel

	enrollCounts cachedCounts // rekindle_enrollments, counted at most once a minute
}

// loadConfig reads the settings table with the flags in fs.
func loadConfig(env *Env, fs *flag.FlagSet) (*config.Config, error) {
	cfg, _, err := config.LoadLookup(env.Lookup, fs)
	return cfg, err
}

// loadProgramsWith reads the embedded programs, or those in dir: a folder
// of program folders, or one program's own folder. Each program must load
// (programs.LoadAll) and every step must render with r as `programs
// validate` promises (renderCheck): an SMS of more than two segments or
// one needing UCS-2 is a problem like any other, and with any problem
// nothing is returned. warnings are what validate reports without failing
// (a text of two segments without the STOP hint); they come back with the
// error too. Problems name their files by the path given (DirFS alone
// would make them relative to dir).
func loadProgramsWith(dir string, r *render.Renderer) (progs map[string]*programs.Program, warnings []programs.Problem, err error) {
	fsys := programs.Embedded()
	if dir != "" {
		fi, err := os.Stat(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("programs folder: %w", err) // names the path; DirFS would say "."
		}
		if !fi.IsDir() {
			return nil, nil, fmt.Errorf("programs folder %s: not a folder; give the folder that holds program.yaml, or a folder of program folders", dir)
		}
		fsys = os.DirFS(dir)
	}
	progs, err = programs.LoadAll(fsys, ".")
	if errors.Is(err, programs.ErrNoPrograms) && dir != "" {
		return nil, nil, fmt.Errorf("programs folder %s: %w", dir, programs.ErrNoPrograms)
	}
	if err == nil {
		var problems []programs.Problem
		for _, slug := range slices.Sorted(maps.Keys(progs)) {
			pr, warn, err := renderCheck(r, progs[slug])
			if err != nil {
				return nil, nil, err
			}
			problems, warnings = append(problems, pr...), append(warnings, warn...)
		}
		if len(problems) > 0 {
			progs, err = nil, &programs.ValidationError{Problems: problems}
		}
	}
	if dir != "" {
		var ve *programs.ValidationError
		if errors.As(err, &ve) {
			for i := range ve.Problems {
				ve.Problems[i].File = filepath.Join(dir, ve.Problems[i].File)
			}
		}
		for i := range warnings {
			warnings[i].File = filepath.Join(dir, warnings[i].File)
		}
	}
	return progs, warnings, err
}

func templateFS(dir string) fs.FS {
	if dir != "" {
		return os.DirFS(dir)
	}
	return templates.FS
}

// wireOptions vary between serve, demo and the admin commands.
type wireOptions struct {
	clock    clock.Clock
	migrate  bool // apply migrations (else require the schema to be current)
	channels bool // build the delivery channels
	// anyPrograms lets a command that plans nothing new (an opt-out, a
	// pause, leaving) go on when the program folder does not load or
	// validate: honouring an opt-out must not wait for a typo in a lesson
	// to be fixed. Enrollments run on the versions stored in the database.
	anyPrograms bool
}

// wire builds the app from the configuration: one place, returning errors.
func wire(ctx context.Context, env *Env, cfg *config.Config, o wireOptions) (*app, error) {
	log, err := logging.New(env.Stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, clock: o.clock}
	if a.clock == nil {
		a.clock = clock.Real{}
	}
	db, err := store.Connect(ctx, cfg.DatabaseURL, store.Options{MaxOpenConns: 8})
	if err != nil {
		return nil, err
	}
	if o.migrate {
		if applied, err := store.Migrate(ctx, db.DB); err != nil {
			db.Close()
			return nil, err
		} else if len(applied) > 0 {
			log.Info("migrations applied", "versions", fmt.Sprint(applied))
		}
	} else if err := store.RequireSchema(ctx, db.DB); err != nil {
		db.Close()
		return nil, err
	}
	if a.store, err = store.New(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	key := cfg.SecretKey
	if key == "" {
		// Links signed with it work only while this process runs: serve
		// warns of it (or refuses, with a real provider); the admin
		// commands sign nothing.
		b := make([]byte, 24)
		rand.Read(b)
		key = hex.EncodeToString(b)
	}
	if a.signer, err = token.NewSigner(key); err != nil {
		a.close()
		return nil, err
	}
	a.links = &token.Links{Base: strings.TrimRight(cfg.BaseURL, "/"), Signer: a.signer, Now: a.clock.Now}
	r, err := newRenderer(cfg)
	if err != nil {
		a.close()
		return nil, err
	}
	a.engine = scheduler.New(a.store, a.clock, log, engineConfig(cfg), r, a.links)
	err = programsFolderErr(cfg.ProgramsDir, nil) // names the setting, as the loader does not
	if err == nil {
		a.progs, _, err = loadProgramsWith(cfg.ProgramsDir, r)
	}
	switch {
	case err != nil && o.anyPrograms:
		a.log.Warn("programs do not load; going on without them, as this command plans nothing new", "err", err)
		a.progs = nil
	case err != nil:
		a.close()
		return nil, err
	default:
		if err := a.engine.LoadPrograms(ctx, a.progs); err != nil {
			a.close()
			return nil, err
		}
	}
	if o.channels {
		if a.channels, err = buildChannels(cfg, log); err != nil {
			a.close()
			return nil, err
		}
	}
	return a, nil
}

// newRenderer parses the message layouts with the deployment's settings.
func newRenderer(cfg *config.Config) (*render.Renderer, error) {
	return render.New(templateFS(cfg.TemplatesDir), render.Config{
		SenderName: "Rekindle", PostalAddress: cfg.PostalAddress, SMSBrand: cfg.SMSBrand,
		Support: supportText(cfg), HelpContact: cfg.SupportContact,
	})
}

// engineConfig is the engine's policy from the settings (already validated,
// so the quiet hours parse).
func engineConfig(cfg *config.Config) scheduler.Config {
	smsQuiet, _ := scheduler.ParseQuiet(cfg.QuietHours)
	emailQuiet, _ := scheduler.ParseQuiet(cfg.EmailQuietHours)
	return scheduler.Config{
		Grace: cfg.CatchupGrace, Pacing: cfg.Pacing, SMSQuiet: smsQuiet, EmailQuiet: emailQuiet,
		Lease: cfg.Lease, RetryBase: cfg.RetryBase, RetryFor: cfg.RetryFor, Planners: cfg.Planners, ClaimLoops: cfg.ClaimLoops,
		ListID: "Rekindle <rekindle." + hostOf(cfg.BaseURL) + ">",
		Mailto: unsubscribeMailto(cfg.UnsubMailto),
	}
}

// unsubscribeMailto is the List-Unsubscribe mailto: URI for addr (a plain
// address, checked by config), "" for none. Characters a mailto: address
// may not carry as they are (RFC 6068 2) are percent-encoded; so is the
// comma, which would split the header's list.
func unsubscribeMailto(addr string) string {
	if addr == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("mailto:")
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$'()*+;:@", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	b.WriteString("?subject=unsubscribe")
	return b.String()
}

func (a *app) close() {
	if a.store != nil {
		a.store.Close()
	}
}

// supportText is what the low-mood message offers: the deployment's own
// resources, or a general pointer when none are configured.
func supportText(cfg *config.Config) string {
	if cfg.SupportResources != "" {
		return cfg.SupportResources
	}
	s := "If things feel heavy, please reach out to someone: a friend you trust, your doctor, or a local counselling service. If you are in danger or thinking about harming yourself, contact your local emergency number now."
	if cfg.SupportContact != "" {
		s += "\n\nYou can also write to " + cfg.SupportContact + "."
	}
	return s
}

func hostOf(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	if i := strings.IndexAny(u, ":/"); i >= 0 {
		u = u[:i]
	}
	return u
}

// buildChannels picks each channel's provider: the real one when it is
// configured, else the file channel.
// Real providers are rate-limited per instance (channel.NewLimiter in each
// process: the configured rate in every second); the file channel is local
// and unlimited.
func buildChannels(cfg *config.Config, log *slog.Logger) ([]channel.Channel, error) {
	var email, sms channel.Channel
	var err error
	if cfg.SMTPHost != "" {
		email, err = channel.NewSMTP(channel.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername,
			Password: cfg.SMTPPassword, TLS: cfg.SMTPTLS, From: cfg.EmailFrom, ReplyTo: cfg.EmailReplyTo,
			Timeout: cfg.SMTPTimeout}, log)
		if err == nil {
			email = channel.NewRateLimited(email, channel.NewLimiter(cfg.EmailRate))
		}
	} else {
		email, err = channel.NewFile(channel.Email, cfg.OutboxDir, cfg.EmailFrom, log)
	}
	if err != nil {
		return nil, err
	}
	if cfg.TwilioAccountSID != "" {
		sms, err = channel.NewTwilio(channel.TwilioConfig{AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken,
			APIKey: cfg.TwilioAPIKey, APISecret: cfg.TwilioAPISecret, From: cfg.TwilioFrom,
			MessagingServiceSID: cfg.TwilioMsgService, APIURL: cfg.TwilioAPIURL, Timeout: cfg.TwilioTimeout,
			StatusCallbackURL: strings.TrimRight(cfg.BaseURL, "/") + "/webhooks/twilio/status"}, log)
		if err == nil {
			sms = channel.NewRateLimited(sms, channel.NewLimiter(cfg.SMSRate))
		}
	} else {
		sms, err = channel.NewFile(channel.SMS, cfg.OutboxDir, cfg.EmailFrom, log)
	}
	if err != nil {
		return nil, err
	}
	return []channel.Channel{email, sms}, nil
}

// dispatchers makes one dispatcher per channel.
func (a *app) dispatchers(id string) []*scheduler.Dispatcher {
	var out []*scheduler.Dispatcher
	for _, ch := range a.channels {
		workers, perSecond := 1, a.cfg.SMSRate
		if ch.Kind() == channel.Email {
			workers, perSecond = a.cfg.EmailWorkers, a.cfg.EmailRate
		}
		d := a.engine.NewDispatcher(ch, workers, id)
		// Claim no more than the rate sends in half a lease.
		d.LimitClaims(int(perSecond * a.engine.Cfg.Lease.Seconds() / 2))
		out = append(out, d)
	}
	return out
}

func instanceID() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%d", h, os.Getpid(), time.Now().Unix())
}
