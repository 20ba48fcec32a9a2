package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/rekindle/rekindle/logging"
)

// TwilioConfig configures the Twilio SMS channel.
type TwilioConfig struct {
	AccountSID string // "AC..."
	AuthToken  string // either AuthToken, or APIKey and APISecret
	APIKey     string // "SK..."
	APISecret  string

	From                string // E.164 number or alphanumeric sender ID
	MessagingServiceSID string // "MG..."; used instead of (or with) From

	APIURL            string // default https://api.twilio.com (a fake in tests)
	StatusCallbackURL string // optional, Twilio posts delivery status here

	Timeout time.Duration // per request; default 10s
}

const (
	defaultTwilioAPIURL  = "https://api.twilio.com"
	defaultTwilioTimeout = 10 * time.Second
)

type twilioChannel struct {
	cfg    TwilioConfig
	log    *slog.Logger
	user   string
	pass   string
	target *url.URL // where requests for *.twilio.com go instead; nil for the real API
}

// NewTwilio returns the Twilio SMS channel. It checks cfg (the error names
// the field) but does not contact Twilio.
func NewTwilio(cfg TwilioConfig, logger *slog.Logger) (Channel, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("twilio: config: "+format, args...)
	}
	if cfg.AccountSID == "" {
		return nil, bad("AccountSID is required")
	}
	if !strings.HasPrefix(cfg.AccountSID, "AC") || !alnum(cfg.AccountSID) {
		return nil, bad("AccountSID %q must look like AC followed by letters and digits", cfg.AccountSID)
	}
	c := &twilioChannel{cfg: cfg, log: logger.With("channel", "twilio")}
	switch {
	case cfg.APIKey != "" || cfg.APISecret != "":
		if cfg.APIKey == "" || cfg.APISecret == "" {
			return nil, bad("APIKey and APISecret must be set together")
		}
		if !alnum(cfg.APIKey) || !alnum(cfg.APISecret) {
			return nil, bad("APIKey and APISecret may hold only letters and digits")
		}
		c.user, c.pass = cfg.APIKey, cfg.APISecret
	case cfg.AuthToken != "":
		if !alnum(cfg.AuthToken) {
			return nil, bad("AuthToken may hold only letters and digits")
		}
		c.user, c.pass = cfg.AccountSID, cfg.AuthToken
	default:
		return nil, bad("AuthToken, or APIKey and APISecret, is required")
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		return nil, bad("From or MessagingServiceSID is required")
	}
	if cfg.MessagingServiceSID != "" && (!strings.HasPrefix(cfg.MessagingServiceSID, "MG") || !alnum(cfg.MessagingServiceSID)) {
		return nil, bad("MessagingServiceSID %q must look like MG followed by letters and digits", cfg.MessagingServiceSID)
	}
	if strings.ContainsAny(cfg.From, "\r\n") {
		return nil, bad("From must be one line")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = defaultTwilioAPIURL
	}
	u, err := url.Parse(cfg.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, bad("APIURL %q must be an http(s) URL like %s", cfg.APIURL, defaultTwilioAPIURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if u.String() != defaultTwilioAPIURL {
		c.target = u
	}
	if cfg.StatusCallbackURL != "" {
		cb, err := url.Parse(cfg.StatusCallbackURL)
		if err != nil || (cb.Scheme != "http" && cb.Scheme != "https") || cb.Host == "" {
			return nil, bad("StatusCallbackURL %q must be an absolute http(s) URL", cfg.StatusCallbackURL)
		}
	}
	if cfg.Timeout < 0 {
		return nil, bad("Timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTwilioTimeout
	}
	c.cfg = cfg
	return c, nil
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

func (c *twilioChannel) Kind() Kind   { return SMS }
func (c *twilioChannel) Name() string { return "twilio" }

// NewSender returns a Sender with its own twilio-go client and HTTP
// connection pool (kept alive between sends, closed by Close).
func (c *twilioChannel) NewSender() (Sender, error) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 2
	base.IdleConnTimeout = 60 * time.Second
	tr := &twilioTransport{base: base, target: c.target}
	cl := &client.Client{
		Credentials: client.NewCredentials(c.user, c.pass),
		HTTPClient: &http.Client{
			Transport: tr,
			// Timeouts come from the Send context (see twilioTransport).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		UserAgentExtensions: []string{"rekindle"},
	}
	cl.SetAccountSid(c.cfg.AccountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: cl})
	return &twilioSender{ch: c, tr: tr, rc: rc}, nil
}

type twilioSender struct {
	ch     *twilioChannel
	tr     *twilioTransport
	rc     *twilio.RestClient
	mu     sync.Mutex
	closed bool
}

// Send creates one Message resource. twilio-go has no context parameter:
// the context reaches the HTTP request through the sender's transport.
//
// A request that times out may still have been accepted by Twilio, and the
// Messages API has no idempotency key, so a retry after "timeout" or a 5xx
// can send a second SMS; that is the price of not losing one.
func (s *twilioSender) Send(ctx context.Context, m Message) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Result{}, errors.New("twilio: send on closed sender")
	}
	if m.To == "" {
		return Result{}, permanentAddress("invalid-address", errors.New("twilio: message has no To number"))
	}
	if err := ctx.Err(); err != nil {
		return Result{}, classifyNetErr(fmt.Errorf("twilio: send: %w", err))
	}
	cfg := s.ch.cfg
	params := &openapi.CreateMessageParams{}
	params.SetTo(m.To)
	params.SetBody(m.Text)
	if cfg.From != "" {
		params.SetFrom(cfg.From)
	}
	if cfg.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(cfg.MessagingServiceSID)
	}
	if cfg.StatusCallbackURL != "" {
		params.SetStatusCallback(cfg.StatusCallbackURL)
	}

	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	s.tr.begin(rctx)
	resp, err := s.rc.Api.CreateMessage(params)
	status := s.tr.end()
	if err != nil {
		err = s.classify(ctx, rctx, status, err, m.To)
		s.ch.log.Debug("twilio: send failed", "to", logging.MaskPhone(m.To), "delivery", m.DeliveryID, "err", err)
		return Result{}, err
	}
	if resp == nil || resp.Sid == nil || *resp.Sid == "" {
		// Accepted (2xx) but no SID: cannot tell what happened.
		return Result{}, Retryable("response", fmt.Errorf("twilio: create message: HTTP %d without a message SID", status))
	}
	detail := "twilio " + deref(resp.Status)
	if n := deref(resp.NumSegments); n != "" {
		detail += ", " + n + " segment(s)"
	}
	return Result{ProviderID: *resp.Sid, Detail: detail}, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// classify turns a twilio-go error into a provider error. status is the HTTP
// status the transport saw (0: no response).
func (s *twilioSender) classify(ctx, rctx context.Context, status int, err error, to string) error {
	werr := redact(err, "twilio: create message: ", to, logging.MaskPhone(to))
	var tre *client.TwilioRestError
	switch {
	case errors.As(err, &tre):
		st := tre.Status
		if st == 0 {
			st = status
		}
		return classifyTwilioAPI(st, tre.Code, werr)
	case ctx.Err() != nil:
		return classifyNetErr(fmt.Errorf("twilio: create message: %w: %w", ctx.Err(), werr))
	case rctx.Err() != nil:
		return Retryable("timeout", fmt.Errorf("twilio: create message: %w: %w", rctx.Err(), werr))
	case status >= 300:
		// An error reply that is not Twilio's JSON (a proxy's page).
		return classifyTwilioAPI(status, 0, werr)
	case status >= 200:
		// A success reply twilio-go could not decode: it may have been sent.
		return Retryable("response", werr)
	default:
		return classifyNetErr(werr)
	}
}

// Close releases the sender's idle HTTP connections.
func (s *twilioSender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.tr.base.CloseIdleConnections()
	return nil
}

// twilioTransport is the RoundTripper under a sender's twilio-go client.
//
//   - twilio-go v1.31.0 has no base-URL option and builds requests for
//     https://api.twilio.com (or api.{edge}.{region}.twilio.com): when the
//     channel has another APIURL, the scheme and host of those requests are
//     rewritten to it (its path, if any, is put in front).
//   - twilio-go makes requests with context.Background(): the transport puts
//     the current Send's context on them instead, so cancellation and
//     timeouts work.
//   - twilio-go never closes the body of an error reply and stops reading a
//     success body at the end of the JSON value; that only frees the
//     connection when the body had a Content-Length. The transport reads
//     every reply into memory (they are small), so the connection goes back
//     to the pool whatever the framing, and records the HTTP status, which
//     twilio-go loses when an error reply is not JSON.
type twilioTransport struct {
	base   *http.Transport
	target *url.URL

	mu     sync.Mutex
	ctx    context.Context
	status int
}

const maxTwilioReply = 1 << 20

func (t *twilioTransport) begin(ctx context.Context) {
	t.mu.Lock()
	t.ctx, t.status = ctx, 0
	t.mu.Unlock()
}

func (t *twilioTransport) end() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ctx = nil
	return t.status
}

func (t *twilioTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	ctx := t.ctx
	t.mu.Unlock()
	if ctx == nil {
		ctx = req.Context()
	}
	req = req.WithContext(ctx)
	if t.target != nil && isTwilioHost(req.URL.Hostname()) {
		u := *req.URL
		u.Scheme, u.Host = t.target.Scheme, t.target.Host
		u.Path = t.target.Path + u.Path
		if u.RawPath != "" {
			u.RawPath = t.target.Path + u.RawPath
		}
		req.URL, req.Host = &u, ""
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.status = resp.StatusCode
	t.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTwilioReply))
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading reply (HTTP %d): %w", resp.StatusCode, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

func isTwilioHost(h string) bool {
	h = strings.ToLower(h)
	return h == "twilio.com" || strings.HasSuffix(h, ".twilio.com")
}
