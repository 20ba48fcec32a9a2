// Package token signs the ids that links carry (confirm, unsubscribe,
// manage) with HMAC-SHA256, bound to a purpose and an expiry, so a link
// cannot be forged, reused for another purpose, or used forever.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Purposes.
const (
	Confirm     = "confirm"
	Unsubscribe = "unsubscribe"
	Manage      = "manage"
)

// Errors from Verify.
var (
	ErrInvalid = errors.New("token: invalid")
	ErrExpired = errors.New("token: expired")
)

// Signer makes and checks tokens.
type Signer struct {
	key []byte
	// macs holds keyed HMACs to reuse: keying one hashes the key again, and
	// every message carries two signed links.
	macs sync.Pool
}

// NewSigner returns a signer; the key must be at least 16 bytes.
func NewSigner(key string) (*Signer, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("token: the secret key must be at least 16 characters")
	}
	return &Signer{key: []byte(key)}, nil
}

// Sign returns a token for purpose and subject (for example "s42" or
// "s42.email"), valid until exp.
func (s *Signer) Sign(purpose, subject string, exp time.Time) string {
	payload := subject + "." + strconv.FormatInt(exp.Unix(), 36)
	return payload + "." + s.mac(purpose, payload)
}

func (s *Signer) mac(purpose, payload string) string {
	m, ok := s.macs.Get().(hash.Hash)
	if ok {
		m.Reset()
	} else {
		m = hmac.New(sha256.New, s.key)
	}
	io.WriteString(m, purpose)
	m.Write([]byte{0})
	io.WriteString(m, payload)
	var sum [sha256.Size]byte
	out := base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0])[:18])
	s.macs.Put(m)
	return out
}

// Verify checks a token for purpose at now and returns its subject.
func (s *Signer) Verify(purpose, tok string, now time.Time) (string, error) {
	i := strings.LastIndexByte(tok, '.')
	// The MAC covers purpose, NUL, payload: with a NUL in either, bytes could
	// shift between them and a token verify for another purpose.
	if i <= 0 || len(tok) > 256 || strings.IndexByte(purpose, 0) >= 0 || strings.IndexByte(tok, 0) >= 0 {
		return "", ErrInvalid
	}
	payload, sig := tok[:i], tok[i+1:]
	if !hmac.Equal([]byte(sig), []byte(s.mac(purpose, payload))) {
		return "", ErrInvalid
	}
	j := strings.LastIndexByte(payload, '.')
	if j <= 0 {
		return "", ErrInvalid
	}
	exp, err := strconv.ParseInt(payload[j+1:], 36, 64)
	if err != nil {
		return "", ErrInvalid
	}
	if now.Unix() > exp {
		return "", ErrExpired
	}
	return payload[:j], nil
}

// Links builds the URLs messages carry. Unsubscribe and manage links live
// long (people open old emails); they name a person, not a secret.
type Links struct {
	Base   string // public base URL, no trailing slash
	Signer *Signer
	Now    func() time.Time
	TTL    time.Duration // default 400 days
}

func (l *Links) exp() time.Time {
	ttl := l.TTL
	if ttl == 0 {
		ttl = 400 * 24 * time.Hour
	}
	return l.Now().Add(ttl)
}

// Unsubscribe is the one-click unsubscribe URL for one channel.
func (l *Links) Unsubscribe(subscriberID int64, channel string) string {
	return l.Base + "/unsubscribe/" + l.Signer.Sign(Unsubscribe, fmt.Sprintf("s%d.%s", subscriberID, channel), l.exp())
}

// Manage is the manage-your-subscription URL.
func (l *Links) Manage(subscriberID int64) string {
	return l.Base + "/manage/" + l.Signer.Sign(Manage, fmt.Sprintf("s%d", subscriberID), l.exp())
}

// Checkin is a one-click answer URL. Check-in tokens are random and stored.
func (l *Links) Checkin(tok, value string) string {
	return l.Base + "/checkin/" + tok + "?a=" + url.QueryEscape(value)
}

// Confirm is the double opt-in URL for a pending enrollment.
func (l *Links) Confirm(enrollmentID int64, ttl time.Duration) string {
	return l.Base + "/confirm/" + l.Signer.Sign(Confirm, fmt.Sprintf("e%d", enrollmentID), l.Now().Add(ttl))
}
