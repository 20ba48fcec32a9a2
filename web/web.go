// Package web is the subscriber-facing web server: the sign-up page and
// API, the Twilio webhooks (inbound SMS, message status), and the pages
// behind the links that messages carry (check-in answers, confirmation,
// unsubscribe, manage).
//
// Links in emails are opened by mail scanners as well as people, so every
// GET here only shows a page; changes happen on POST.
package web

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/rekindle/rekindle/metrics"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/templates"
	"github.com/rekindle/rekindle/token"
)

// Deps is what the web server needs.
type Deps struct {
	Engine          *scheduler.Engine
	Links           *token.Links
	Signer          *token.Signer
	Log             *slog.Logger
	BaseURL         string // public base URL, no trailing slash; Twilio signs BaseURL + path
	DefaultRegion   string // phone numbers without a country code, e.g. "US"
	SupportContact  string // shown in HELP replies and on pages
	TwilioAuthToken string
	// Metrics counts webhook requests by result; may be nil.
	Metrics *metrics.Metrics
	// Confirm sends the confirmation messages of a new pending enrollment;
	// may be nil (tests).
	Confirm func(ctx context.Context, enrollmentID int64) error

	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (see clientIP); none by default.
	TrustedProxies []netip.Prefix

	// SignupRate and SignupBurst limit sign-ups per client IP (default: a
	// burst of 10, then one a minute).
	SignupRate  rate.Limit
	SignupBurst int
}

type server struct {
	Deps
	pages map[string]*template.Template

	mu       sync.Mutex
	limiters map[string]*ipLimiter
}

type ipLimiter struct {
	lim  *rate.Limiter
	seen time.Time
}

var pageNames = []string{"error", "message", "checkin", "unsubscribe", "confirm", "manage", "subscribe"}

// New builds the handler. It parses the page templates from templates.FS.
func New(d Deps) (http.Handler, error) {
	if d.Engine == nil || d.Signer == nil {
		return nil, fmt.Errorf("web: Engine and Signer are required")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	d.BaseURL = strings.TrimRight(d.BaseURL, "/")
	if d.DefaultRegion == "" {
		d.DefaultRegion = "US"
	}
	if d.SignupRate == 0 {
		d.SignupRate = rate.Every(time.Minute)
	}
	if d.SignupBurst == 0 {
		d.SignupBurst = 10
	}
	s := &server{Deps: d, pages: map[string]*template.Template{}, limiters: map[string]*ipLimiter{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templates.FS, "web/base.html", "web/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		s.pages[name] = t
	}
	index, err := template.New("index").Funcs(funcs).ParseFS(templates.FS, "web/base.html")
	if err == nil {
		index, err = index.Parse(indexPage)
	}
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	s.pages["index"] = index

	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/twilio/sms", s.twilioSMS)
	mux.HandleFunc("POST /webhooks/twilio/status", s.twilioStatus)
	mux.HandleFunc("GET /checkin/{token}", s.checkinPage)
	mux.HandleFunc("POST /checkin/{token}", s.checkinAnswer)
	mux.HandleFunc("GET /unsubscribe/{token}", s.unsubscribePage)
	mux.HandleFunc("POST /unsubscribe/{token}", s.unsubscribe)
	mux.HandleFunc("GET /confirm/{token}", s.confirmPage)
	mux.HandleFunc("POST /confirm/{token}", s.confirm)
	mux.HandleFunc("GET /manage/{token}", s.managePage)
	mux.HandleFunc("POST /manage/{token}", s.manage)
	mux.HandleFunc("GET /subscribe/{program}", s.subscribePage)
	mux.HandleFunc("POST /subscribe/{program}", s.subscribe)
	mux.HandleFunc("POST /api/v1/subscriptions", s.apiSubscribe)
	mux.HandleFunc("GET /{$}", s.index) // exactly "/": any other path is not found
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "Page not found", "There is no page at this address. If you followed a link from one of our messages, it may have been cut short; try copying the whole link.")
	})
	// Route: the server counts requests by this mux's patterns, not by
	// the catch-all it is mounted on.
	return http.MaxBytesHandler(securityHeaders(metrics.Route(mux)), 64<<10), nil
}

var funcs = template.FuncMap{}

// indexPage is the content of the page at "/", in the layout of every page.
const indexPage = `{{define "content"}}
<h1>{{.Title}}</h1>
{{if .Programs}}<p class="lead">Choose a program to read what it offers and sign up. You can pause or stop whenever you like.</p>
<ul>
{{range .Programs}}<li><a href="{{.URL}}">{{.Title}}</a>{{with .Description}}<br><span class="muted">{{.}}</span>{{end}}</li>
{{end}}</ul>
{{else}}<p>There are no programs open for sign-up just now. Please check back soon.</p>
{{end}}{{with .Support}}<p class="muted">Questions? You can reach us at {{.}}.</p>{{end}}
{{end}}`

type indexItem struct{ Title, Description, URL string }

// index lists the programs one can sign up for, each linked to its
// sign-up page.
func (s *server) index(w http.ResponseWriter, r *http.Request) {
	var items []indexItem
	for slug, p := range s.Engine.Programs() {
		title := p.Title
		if title == "" {
			title = slug
		}
		items = append(items, indexItem{Title: title, Description: p.Description, URL: s.BaseURL + "/subscribe/" + url.PathEscape(slug)})
	}
	slices.SortFunc(items, func(a, b indexItem) int {
		return cmp.Or(strings.Compare(a.Title, b.Title), strings.Compare(a.URL, b.URL))
	})
	s.render(w, http.StatusOK, "index", map[string]any{"Title": "Programs you can join", "Programs": items, "Support": s.SupportContact})
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
		w.Header().Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// render writes a page. data must carry a "Title".
func (s *server) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "base", data); err != nil {
		s.Log.Error("web: render", "page", name, "err", err)
		http.Error(w, "Something went wrong on our side. Please try again in a few minutes.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail shows an error page naming the problem.
func (s *server) fail(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.render(w, status, "error", map[string]any{"Title": title, "Message": msg, "Support": s.SupportContact})
}

// oops logs an internal error and shows a calm 500 page.
func (s *server) oops(w http.ResponseWriter, r *http.Request, err error) {
	s.Log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.fail(w, r, http.StatusInternalServerError, "Something went wrong on our side",
		"We couldn't finish that just now. Nothing is lost: please try again in a few minutes.")
}

// message shows a short page with a heading and a paragraph or two.
func (s *server) message(w http.ResponseWriter, status int, title string, paras ...string) {
	s.render(w, status, "message", map[string]any{"Title": title, "Paras": paras, "Support": s.SupportContact})
}

// userAgent is the User-Agent as consent evidence: header bytes need not be
// UTF-8, which PostgreSQL would refuse.
func userAgent(r *http.Request) string {
	ua := strings.ToValidUTF8(r.UserAgent(), "\uFFFD")
	if len(ua) > 512 {
		ua = strings.ToValidUTF8(ua[:512], "")
	}
	return ua
}

// allow takes one sign-up from the client's budget.
func (s *server) allow(r *http.Request) bool {
	ip := s.clientIP(r)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.limiters) > 10000 {
		for k, l := range s.limiters {
			if now.Sub(l.seen) > time.Hour {
				delete(s.limiters, k)
			}
		}
	}
	l, ok := s.limiters[ip]
	if !ok {
		l = &ipLimiter{lim: rate.NewLimiter(s.SignupRate, s.SignupBurst)}
		s.limiters[ip] = l
	}
	l.seen = now
	return l.lim.AllowN(now, 1)
}

func (s *server) now() time.Time { return s.Engine.Clock.Now() }
