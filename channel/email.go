package channel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/rekindle/rekindle/logging"
)

// SMTPConfig configures the SMTP email channel.
type SMTPConfig struct {
	Host     string
	Port     int // 0: 25 for TLS "none", 587 for "starttls", 465 for "tls"
	Username string
	Password string
	TLS      string // none|starttls|tls; "" means starttls
	From     string // "Name <addr@domain>" or "addr@domain"; its domain names Message-IDs
	ReplyTo  string // optional

	Timeout     time.Duration // per connection attempt and per message; default 30s
	IdleTimeout time.Duration // a connection unused this long is closed; default 30s
	HELO        string        // EHLO name; default the host name

	// tlsConfig overrides the TLS client configuration (tests trust a fake
	// server's certificate with it).
	tlsConfig *tls.Config
}

const (
	defaultSMTPTimeout     = 30 * time.Second
	defaultSMTPIdleTimeout = 30 * time.Second
	maxHeaderLine          = 998 // RFC 5322 2.1.1, without CRLF
)

// SMTPMessageID returns the Message-ID header value (with angle brackets) for
// a delivery: the same delivery always gets the same Message-ID, so a retry
// that reaches the recipient twice can be recognized as a duplicate, and a
// bounce can be traced back to its delivery.
func SMTPMessageID(deliveryID int64, domain string) string {
	return "<delivery-" + strconv.FormatInt(deliveryID, 10) + ".rekindle@" + domain + ">"
}

// ParseSMTPMessageID returns the delivery id in a Message-ID made by
// SMTPMessageID (brackets optional).
func ParseSMTPMessageID(id string) (int64, bool) {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	rest, ok := strings.CutPrefix(id, "delivery-")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, ".rekindle@")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	return n, err == nil
}

type smtpChannel struct {
	composer
	cfg    SMTPConfig
	tlsCfg *tls.Config
}

// NewSMTP returns the SMTP email channel. It checks cfg (the error names the
// field) but does not connect: each Sender connects on its first Send.
func NewSMTP(cfg SMTPConfig, logger *slog.Logger) (Channel, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("smtp: config: "+format, args...)
	}
	cfg.Host = strings.TrimSpace(cfg.Host)
	if cfg.Host == "" {
		return nil, bad("Host is required")
	}
	if strings.ContainsAny(cfg.Host, " /:@") && net.ParseIP(cfg.Host) == nil {
		return nil, bad("Host %q must be a host name or IP address, without scheme or port", cfg.Host)
	}
	cfg.TLS = strings.ToLower(strings.TrimSpace(cfg.TLS))
	if cfg.TLS == "" {
		cfg.TLS = "starttls"
	}
	switch cfg.TLS {
	case "none", "starttls", "tls":
	default:
		return nil, bad("TLS %q must be none, starttls or tls", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{"none": 25, "starttls": 587, "tls": 465}[cfg.TLS]
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, bad("Port %d out of range 1-65535", cfg.Port)
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return nil, bad("Username and Password must be set together")
	}
	if cfg.Username != "" && cfg.TLS == "none" && !isLoopback(cfg.Host) {
		return nil, bad("Username/Password need TLS starttls or tls (refusing to send a password in clear to %s)", cfg.Host)
	}
	comp, err := newComposer("smtp", cfg.From, cfg.ReplyTo, logger.With("channel", "smtp"))
	if err != nil {
		return nil, bad("%w", err)
	}
	if cfg.Timeout < 0 {
		return nil, bad("Timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultSMTPTimeout
	}
	if cfg.IdleTimeout < 0 {
		return nil, bad("IdleTimeout must not be negative")
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = defaultSMTPIdleTimeout
	}
	if strings.ContainsAny(cfg.HELO, " \t\r\n") {
		return nil, bad("HELO %q must be a single host name", cfg.HELO)
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.tlsConfig != nil {
		tlsCfg = cfg.tlsConfig.Clone()
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = cfg.Host
	}
	return &smtpChannel{composer: comp, cfg: cfg, tlsCfg: tlsCfg}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *smtpChannel) Kind() Kind   { return Email }
func (c *smtpChannel) Name() string { return "smtp" }

// NewSender returns a Sender holding at most one SMTP connection, opened on
// the first Send and kept for the following ones.
func (c *smtpChannel) NewSender() (Sender, error) {
	s := &smtpSender{ch: c}
	opts := []mail.Option{
		mail.WithPort(c.cfg.Port),
		mail.WithTimeout(c.cfg.Timeout),
		mail.WithDialContextFunc(s.dialConn),
		// One round trip less per message: a dead connection shows at MAIL
		// FROM instead of NOOP, and Send then redials and tries again.
		mail.WithoutNoop(),
		// After a successful DATA the transaction is over (RFC 5321 4.1.1.4);
		// the next MAIL FROM needs no RSET.
		mail.WithoutRset(),
	}
	switch c.cfg.TLS {
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(c.tlsCfg))
	default: // "none", and "tls" where dialConn does the TLS handshake itself
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if c.cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(c.cfg.HELO))
	}
	if c.cfg.Username != "" {
		// Opportunistic rather than auto-discovery: with our own dialer
		// go-mail does not know an implicit-TLS connection is encrypted and
		// its discovery would refuse PLAIN and LOGIN. The smtp package still
		// refuses PLAIN/LOGIN on a connection that is not TLS (localhost
		// excepted).
		opts = append(opts,
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1,
				mail.SMTPAuthPlain, mail.SMTPAuthLogin, mail.SMTPAuthCramMD5),
			mail.WithUsername(c.cfg.Username),
			mail.WithPassword(c.cfg.Password),
		)
	}
	client, err := mail.NewClient(c.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp: new client: %w", err)
	}
	s.client = client
	return s, nil
}

// smtpSender holds one go-mail Client and at most one connection. A Sender
// is used by one goroutine at a time; the mutex only guards against the idle
// timer.
type smtpSender struct {
	ch     *smtpChannel
	client *mail.Client

	mu       sync.Mutex
	conn     *trackedConn // the TCP connection, nil when not connected
	outer    net.Conn     // what go-mail talks over: conn, or TLS over it
	lastUsed time.Time
	idle     *time.Timer
	closed   bool
	dials    int

	dialCtx  context.Context // the context of the dial under way
	dialStop func()          // ends the watch dialConn started
}

// dialConn is go-mail's DialContextFunc: it dials TCP (and TLS for mode
// "tls") and keeps the connection so that Send can watch it.
func (s *smtpSender) dialConn(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: s.ch.cfg.Timeout, KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: raw}
	if s.dialCtx != nil {
		// Watch our own dial context, not ctx: go-mail cancels ctx as soon as
		// the dial returns, which would break off the new connection.
		s.dialStop = tc.watch(s.dialCtx)
	}
	var outer net.Conn = tc
	if s.ch.cfg.TLS == "tls" {
		tlsConn := tls.Client(tc, s.ch.tlsCfg)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		outer = tlsConn // a *tls.Conn, so go-mail's smtp client knows it is encrypted
	}
	s.conn, s.outer = tc, outer
	return outer, nil
}

// connect opens the connection: TCP, greeting, EHLO, STARTTLS, AUTH. Every
// failure here is about the server or our configuration, never about the
// recipient, so it is retryable.
func (s *smtpSender) connect(ctx context.Context) error {
	s.dials++
	dctx, cancel := context.WithTimeout(ctx, s.ch.cfg.Timeout)
	defer cancel()
	s.dialCtx = dctx
	err := s.client.DialWithContext(dctx)
	if s.dialStop != nil {
		s.dialStop()
		s.dialStop = nil
	}
	s.dialCtx = nil
	if err == nil {
		s.ch.log.Debug("smtp: connected", "addr", s.addr(), "dials", s.dials)
		return nil
	}
	s.drop()
	werr := fmt.Errorf("smtp: dial %s: %w", s.addr(), err)
	var tpe *textproto.Error
	switch {
	case ctx.Err() != nil:
		return classifyNetErr(fmt.Errorf("smtp: dial %s: %w: %w", s.addr(), ctx.Err(), err))
	case errors.As(err, &tpe):
		return Retryable(strconv.Itoa(tpe.Code), werr)
	case isNetErr(err):
		return classifyNetErr(werr)
	default:
		return Retryable("connect", werr)
	}
}

func isNetErr(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || isTimeout(err) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func (s *smtpSender) addr() string {
	return net.JoinHostPort(s.ch.cfg.Host, strconv.Itoa(s.ch.cfg.Port))
}

// Send sends one message over the sender's connection, opening it first if
// needed. A connection that turns out dead before anything was sent (closed
// by the server while idle) is replaced and the message tried once more.
func (s *smtpSender) Send(ctx context.Context, m Message) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Result{}, errors.New("smtp: send on closed sender")
	}
	msg, id, err := s.ch.build(m)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, classifyNetErr(fmt.Errorf("smtp: send: %w", err))
	}
	if s.idle != nil {
		s.idle.Stop()
	}
	defer func() {
		s.lastUsed = time.Now()
		s.armIdle()
	}()

	if s.conn != nil && time.Since(s.lastUsed) >= s.ch.cfg.IdleTimeout {
		s.hangUp()
	}
	for attempt := 0; ; attempt++ {
		reused := s.conn != nil
		if !reused {
			if err := s.connect(ctx); err != nil {
				s.ch.log.Debug("smtp: connect failed", "to", logging.MaskEmail(m.To), "delivery", m.DeliveryID, "err", err)
				return Result{}, err
			}
		}
		retrySafe, err := s.transmit(ctx, msg, m)
		if err == nil {
			break
		}
		if reused && retrySafe && attempt == 0 && ctx.Err() == nil {
			s.ch.log.Debug("smtp: connection went stale, redialing", "err", err)
			continue
		}
		s.ch.log.Debug("smtp: send failed", "to", logging.MaskEmail(m.To), "delivery", m.DeliveryID, "err", err)
		return Result{}, err
	}
	detail := "accepted by " + s.addr()
	if r := msg.ServerResponse(); r != "" {
		detail += ": " + r
	}
	return Result{ProviderID: id, Detail: detail}, nil
}

// transmit sends msg over the open connection. On failure it says whether
// the failure happened before the server could have taken the message
// (retrySafe), and leaves the connection open only if it is still usable.
func (s *smtpSender) transmit(ctx context.Context, msg *mail.Msg, m Message) (retrySafe bool, err error) {
	tc := s.conn
	stop := tc.watch(ctx)
	sendErr := s.client.Send(msg)
	stop()
	if sendErr == nil {
		return false, nil
	}

	stage := "send"
	code, enhanced := 0, ""
	var se *mail.SendError
	if errors.As(sendErr, &se) {
		stage = smtpStage(se.Reason)
		code, enhanced = se.ErrorCode(), se.EnhancedStatusCode()
	}
	ioErr := tc.ioErr()
	red := redactAll(sendErr, ioErr, m.To)
	werr := fmt.Errorf("smtp: %s: %w", stage, red)

	keep := ioErr == nil && code != 0 && code != 421 &&
		(stage == "mail" || stage == "rcpt" || stage == "data" && se.Reason == mail.ErrSMTPDataClose)
	if !keep {
		s.drop()
	}
	// Nothing was handed over if it failed at MAIL FROM (or before): the
	// usual sign of a connection the server closed while we held it.
	early := stage == "mail" || stage == "conn"
	switch {
	case ctx.Err() != nil:
		return false, classifyNetErr(fmt.Errorf("smtp: %s: %w: %w", stage, ctx.Err(), red))
	case code != 0:
		return early && code == 421, classifySMTPReply(stage, code, enhanced, werr)
	case ioErr != nil || stage == "conn":
		return early, classifyNetErr(werr)
	default:
		return false, Retryable("send", werr)
	}
}

func smtpStage(r mail.SendErrReason) string {
	switch r {
	case mail.ErrSMTPMailFrom:
		return "mail"
	case mail.ErrSMTPRcptTo:
		return "rcpt"
	case mail.ErrSMTPData, mail.ErrSMTPDataClose, mail.ErrWriteContent:
		return "data"
	case mail.ErrConnCheck:
		return "conn"
	case mail.ErrSMTPReset:
		return "rset"
	default:
		return "send"
	}
}

// redactAll wraps go-mail's error (whose text names the full recipient
// address) and the connection's I/O error under a text with the address
// masked.
func redactAll(sendErr, ioErr error, to string) error {
	errs := []error{sendErr}
	if ioErr != nil {
		errs = append(errs, ioErr)
	}
	msg := sendErr.Error()
	if to != "" {
		msg = strings.ReplaceAll(msg, to, logging.MaskEmail(to))
	}
	return &multiRedacted{msg: msg, errs: errs}
}

type multiRedacted struct {
	msg  string
	errs []error
}

func (e *multiRedacted) Error() string   { return e.msg }
func (e *multiRedacted) Unwrap() []error { return e.errs }

// drop closes the connection without a word (it is broken or in an unknown
// state).
func (s *smtpSender) drop() {
	if s.outer != nil {
		_ = s.outer.Close()
	} else if s.conn != nil {
		_ = s.conn.Close()
	}
	s.conn, s.outer = nil, nil
}

// hangUp says QUIT, briefly, and closes the connection.
func (s *smtpSender) hangUp() {
	if s.conn == nil {
		return
	}
	d := min(s.ch.cfg.Timeout, 5*time.Second)
	_ = s.conn.SetDeadline(time.Now().Add(d))
	if err := s.client.Close(); err != nil {
		s.ch.log.Debug("smtp: quit", "err", err)
	}
	s.drop()
}

func (s *smtpSender) armIdle() {
	if s.conn == nil || s.closed {
		return
	}
	if s.idle == nil {
		s.idle = time.AfterFunc(s.ch.cfg.IdleTimeout, s.idleClose)
		return
	}
	s.idle.Reset(s.ch.cfg.IdleTimeout)
}

// idleClose runs from the idle timer: it closes a connection nobody used for
// IdleTimeout. If a Send holds the sender, it does nothing (Send re-arms).
func (s *smtpSender) idleClose() {
	if !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	if s.conn != nil && !s.closed && time.Since(s.lastUsed) >= s.ch.cfg.IdleTimeout {
		s.ch.log.Debug("smtp: closing idle connection")
		s.hangUp()
	}
}

// Close says QUIT and closes the connection, if any. The sender cannot be
// used afterwards.
func (s *smtpSender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.idle != nil {
		s.idle.Stop()
	}
	s.hangUp()
	return nil
}

// trackedConn is the TCP connection under go-mail. It remembers the first
// I/O error of a send (go-mail's SendError does not unwrap to it), caps the
// deadlines go-mail sets by the Send context's deadline, and breaks off
// pending I/O when that context is canceled.
type trackedConn struct {
	net.Conn

	mu      sync.Mutex
	want    time.Time // the deadline go-mail asked for
	cap     time.Time // the context's deadline, zero if none
	aborted bool
	err     error
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.note(err)
	}
	return n, err
}

func (c *trackedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.note(err)
	}
	return n, err
}

func (c *trackedConn) note(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

func (c *trackedConn) ioErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *trackedConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want = t
	return c.Conn.SetDeadline(c.effective())
}

func (c *trackedConn) effective() time.Time {
	switch {
	case c.aborted:
		return time.Unix(1, 0)
	case !c.cap.IsZero() && (c.want.IsZero() || c.cap.Before(c.want)):
		return c.cap
	default:
		return c.want
	}
}

// watch starts a send under ctx; the returned func ends it.
func (c *trackedConn) watch(ctx context.Context) (stop func()) {
	c.mu.Lock()
	c.err = nil
	c.aborted = false
	c.cap = time.Time{}
	if dl, ok := ctx.Deadline(); ok {
		c.cap = dl
	}
	_ = c.Conn.SetDeadline(c.effective())
	c.mu.Unlock()
	stopAfter := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.aborted = true
		_ = c.Conn.SetDeadline(c.effective())
		c.mu.Unlock()
	})
	return func() {
		stopAfter()
		c.mu.Lock()
		c.cap = time.Time{}
		c.mu.Unlock()
	}
}
