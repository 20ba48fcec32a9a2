package token

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// FuzzSignVerify signs a fuzzed purpose and subject, then verifies the
// token as is and after a fuzzed mutation. A token that verifies gives back
// exactly the subject it was signed with, and only for its own purpose; any
// other string never verifies, for any purpose.
func FuzzSignVerify(f *testing.F) {
	f.Add(Unsubscribe, "s42.email", int64(3600), "", uint16(0), byte(0), uint8(0))
	f.Add(Confirm, "e7", int64(48*3600), Manage, uint16(3), byte('x'), uint8(1))
	f.Add(Manage, "s1", int64(-1), "csrf", uint16(5), byte('.'), uint8(2))
	f.Add("csrf", "nonce-nonce-nonce", int64(12*3600), Confirm, uint16(40), byte(0), uint8(3))
	f.Add(Unsubscribe, "", int64(60), "", uint16(0), byte(0), uint8(0))
	f.Add(Unsubscribe, "s1.sms.zz", int64(1<<40), Unsubscribe+"\x00", uint16(9), byte('A'), uint8(4))
	f.Add("a\x00b", "c", int64(60), "a", uint16(1), byte('b'), uint8(5))

	f.Fuzz(func(t *testing.T, purpose, subject string, ttl int64, other string, pos uint16, b byte, op uint8) {
		s, err := NewSigner("fuzz-secret-key-0123456789")
		if err != nil {
			t.Fatal(err)
		}
		exp := time.Unix(fuzzNow.Unix()+ttl%(1<<40), 0)
		tok := s.Sign(purpose, subject, exp)

		got, err := s.Verify(purpose, tok, fuzzNow)
		switch {
		case err == nil && got != subject:
			t.Fatalf("token %q verified as subject %q, signed as %q", tok, got, subject)
		case err == nil && fuzzNow.Unix() > exp.Unix():
			t.Fatalf("an expired token verified")
		case errors.Is(err, ErrExpired) && fuzzNow.Unix() <= exp.Unix():
			t.Fatalf("a live token was called expired")
		case errors.Is(err, ErrInvalid) && subject != "" && len(tok) <= 256 && !strings.ContainsRune(purpose+subject, 0):
			// A link we signed ourselves must work: this is what people click.
			t.Fatalf("a token just signed for %q/%q does not verify: %q", purpose, subject, tok)
		case err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired):
			t.Fatalf("unexpected error %v", err)
		}
		if err == nil {
			for _, p := range []string{Confirm, Unsubscribe, Manage, "csrf", other} {
				if p == purpose {
					continue
				}
				if sub, err := s.Verify(p, tok, fuzzNow); err == nil {
					t.Fatalf("a %q token verified as %q (subject %q)", purpose, p, sub)
				}
			}
		}

		mut := mutate(tok, int(pos), b, op)
		if mut == tok {
			return
		}
		for _, p := range []string{purpose, Confirm, Unsubscribe, Manage, "csrf", other} {
			if sub, err := s.Verify(p, mut, fuzzNow); err == nil {
				t.Fatalf("mutated token %q (from %q) verified for %q as %q", mut, tok, p, sub)
			}
		}
	})
}

// FuzzVerify checks arbitrary strings: Verify must not panic and a forged
// string never verifies.
func FuzzVerify(f *testing.F) {
	f.Add(Unsubscribe, "s42.email.1b3kq8.AAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add(Confirm, ".")
	f.Add(Manage, "s1..")
	f.Add(Manage, "s1.zz.")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, purpose, tok string) {
		s, _ := NewSigner("fuzz-secret-key-0123456789")
		if sub, err := s.Verify(purpose, tok, fuzzNow); err == nil {
			t.Fatalf("a fuzzed string %q verified for %q as %q", tok, purpose, sub)
		} else if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// mutate changes tok at pos: op picks replace, insert, delete, truncate,
// swap two bytes, or flip a bit.
func mutate(tok string, pos int, b byte, op uint8) string {
	if len(tok) == 0 {
		return string([]byte{b})
	}
	i := pos % len(tok)
	bs := []byte(tok)
	switch op % 6 {
	case 0:
		bs[i] = b
	case 1:
		bs = append(bs[:i], append([]byte{b}, bs[i:]...)...)
	case 2:
		bs = append(bs[:i], bs[i+1:]...)
	case 3:
		bs = bs[:i]
	case 4:
		j := (i + 1) % len(bs)
		bs[i], bs[j] = bs[j], bs[i]
	case 5:
		bs[i] ^= 1 << (b % 8)
	}
	return string(bs)
}
