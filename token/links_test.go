package token

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

var linksNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testLinks(t *testing.T) *Links {
	t.Helper()
	s, err := NewSigner("0123456789abcdef-test")
	if err != nil {
		t.Fatal(err)
	}
	return &Links{Base: "https://r.example", Signer: s, Now: func() time.Time { return linksNow }}
}

// tokenOf cuts the token off a link, checking the link's path is the one the
// web server routes for that purpose.
func tokenOf(t *testing.T, link, prefix string) string {
	t.Helper()
	if !strings.HasPrefix(link, prefix) {
		t.Fatalf("link %q does not start with %q", link, prefix)
	}
	return strings.TrimPrefix(link, prefix)
}

// An unsubscribe link is for one person and one channel, works only as an
// unsubscribe link, and still works when someone opens a year-old email (the
// default lifetime is 400 days, the production setting).
func TestUnsubscribeLinkNamesPersonAndChannelAndLivesLong(t *testing.T) {
	l := testLinks(t)
	tok := tokenOf(t, l.Unsubscribe(42, "sms"), "https://r.example/unsubscribe/")
	got, err := l.Signer.Verify(Unsubscribe, tok, linksNow.Add(399*24*time.Hour))
	if err != nil || got != "s42.sms" {
		t.Fatalf("unsubscribe link 399 days on: subject %q, %v; want s42.sms", got, err)
	}
	if _, err := l.Signer.Verify(Unsubscribe, tok, linksNow.Add(401*24*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("unsubscribe link 401 days on: %v, want expired", err)
	}
	for _, p := range []string{Manage, Confirm, "csrf"} {
		if _, err := l.Signer.Verify(p, tok, linksNow); err == nil {
			t.Fatalf("an unsubscribe link verified as a %s link", p)
		}
	}
}

// A manage link names the person, lives as long as an unsubscribe link, and
// cannot be used to unsubscribe (or confirm).
func TestManageLinkIsOnlyAManageLink(t *testing.T) {
	l := testLinks(t)
	tok := tokenOf(t, l.Manage(42), "https://r.example/manage/")
	got, err := l.Signer.Verify(Manage, tok, linksNow.Add(399*24*time.Hour))
	if err != nil || got != "s42" {
		t.Fatalf("manage link 399 days on: subject %q, %v; want s42", got, err)
	}
	for _, p := range []string{Unsubscribe, Confirm, "csrf"} {
		if _, err := l.Signer.Verify(p, tok, linksNow); err == nil {
			t.Fatalf("a manage link verified as a %s link", p)
		}
	}
}

// A confirm link lives for the TTL it is given (short: a stale confirm link
// in a forwarded email must not enrol anyone), not the long default.
func TestConfirmLinkExpiresAfterItsOwnTTL(t *testing.T) {
	l := testLinks(t)
	tok := tokenOf(t, l.Confirm(7, 48*time.Hour), "https://r.example/confirm/")
	got, err := l.Signer.Verify(Confirm, tok, linksNow.Add(47*time.Hour))
	if err != nil || got != "e7" {
		t.Fatalf("confirm link 47h on: subject %q, %v; want e7", got, err)
	}
	if _, err := l.Signer.Verify(Confirm, tok, linksNow.Add(49*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("confirm link 49h on: %v, want expired", err)
	}
	if _, err := l.Signer.Verify(Unsubscribe, tok, linksNow); err == nil {
		t.Fatal("a confirm link verified as an unsubscribe link")
	}
}

// A check-in answer is a free-text button value: it must reach the server
// as itself, not split the query string.
func TestCheckinLinkEscapesTheAnswer(t *testing.T) {
	l := testLinks(t)
	link := l.Checkin("tok123", "better & ok?=yes")
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/checkin/tok123" {
		t.Fatalf("path %q", u.Path)
	}
	if got := u.Query(); got.Get("a") != "better & ok?=yes" || len(got) != 1 {
		t.Fatalf("link %q carries query %v", link, got)
	}
}

// The operator's secret is the only thing between a stranger and everyone's
// unsubscribe links: a short one is refused, naming the rule.
func TestNewSignerRefusesAShortKey(t *testing.T) {
	if _, err := NewSigner("0123456789abcde"); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Fatalf("15-character key: %v", err)
	}
	if _, err := NewSigner("0123456789abcdef"); err != nil {
		t.Fatalf("16-character key: %v", err)
	}
}

// The MAC covers purpose, NUL, payload. Without the separator, a byte could
// move from the subject into the purpose and the same signature would verify
// for another purpose.
func TestBytesCannotShiftBetweenPurposeAndSubject(t *testing.T) {
	s, _ := NewSigner("0123456789abcdef-test")
	tok := s.Sign("man", "age-s42", linksNow.Add(time.Hour))
	shifted := strings.TrimPrefix(tok, "age")
	if sub, err := s.Verify("manage", shifted, linksNow); err == nil {
		t.Fatalf("token for purpose man/subject age-s42 verified as manage/%q", sub)
	}
}

// A token's signature must be long enough that guessing one is hopeless: at
// least 128 bits (22 base64 characters).
func TestSignatureCarriesAtLeast128Bits(t *testing.T) {
	s, _ := NewSigner("0123456789abcdef-test")
	tok := s.Sign(Unsubscribe, "s42.email", linksNow.Add(time.Hour))
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	if len(sig) < 22 {
		t.Fatalf("signature %q is %d characters", sig, len(sig))
	}
}
