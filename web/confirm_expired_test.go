package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/token"
)

// A confirmation link that has run out cannot be replaced by "the link in
// a more recent message": no newer one comes unless the person asks, and
// signing up again is how (it sends the confirmation again). The page says
// so, with the sign-up page's address. Other expired links keep the usual
// words.
func TestExpiredConfirmLinkSaysHowToGetAFreshOne(t *testing.T) {
	f := newFixture(t)
	_, enr := f.enroll("expired@example.org", "")
	signer, err := token.NewSigner("test-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	past := f.clk.Now().Add(-time.Minute)
	for _, method := range []string{"GET", "POST"} {
		code, page := f.do(method, "/confirm/"+signer.Sign(token.Confirm, fmt.Sprintf("e%d", enr), past), "", "")
		got := visible(page)
		if code != 410 || !strings.Contains(got, "sign up again with the same details and we'll send you a fresh link") ||
			!strings.Contains(got, "The sign-up page is at "+base+"/subscribe/basic.") || strings.Contains(got, "more recent message") {
			t.Errorf("%s expired confirm link: %d, want how to get a fresh link:\n%s", method, code, got)
		}
	}
	code, page := f.do("GET", "/unsubscribe/"+signer.Sign(token.Unsubscribe, "s1.email", past), "", "")
	if code != 410 || !strings.Contains(visible(page), "Use the link in a more recent message") {
		t.Errorf("expired unsubscribe link: %d, want the usual words:\n%s", code, visible(page))
	}
}
