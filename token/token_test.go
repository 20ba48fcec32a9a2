package token

import (
	"errors"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	s, err := NewSigner("0123456789abcdef-test")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := s.Sign(Unsubscribe, "s42.email", now.Add(time.Hour))
	got, err := s.Verify(Unsubscribe, tok, now)
	if err != nil || got != "s42.email" {
		t.Fatalf("verify: %q %v", got, err)
	}
	if _, err := s.Verify(Manage, tok, now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a token for another purpose must not verify: %v", err)
	}
	if _, err := s.Verify(Unsubscribe, tok, now.Add(2*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("an expired token must not verify: %v", err)
	}
	forged := "s43.email" + tok[len("s42.email"):]
	if _, err := s.Verify(Unsubscribe, forged, now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a changed subject must not verify: %v", err)
	}
	other, _ := NewSigner("another-key-0123456789")
	if _, err := other.Verify(Unsubscribe, tok, now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another key must not verify: %v", err)
	}
	for _, bad := range []string{"", ".", "a.b", "...", "s1.zz.!!"} {
		if _, err := s.Verify(Unsubscribe, bad, now); err == nil {
			t.Fatalf("%q verified", bad)
		}
	}
}
