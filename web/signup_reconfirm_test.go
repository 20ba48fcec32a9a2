package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/scheduler"
)

// signupForm fetches the sign-up page of program for its CSRF token and
// posts v with it, as a browser would.
func (f *fixture) signupForm(program string, v url.Values) (int, string) {
	f.t.Helper()
	client := &http.Client{Jar: &cookieJar{}}
	resp, err := client.Get(f.srv.URL + "/subscribe/" + program)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	i := strings.Index(page, `name="csrf" value="`)
	if i < 0 {
		f.t.Fatalf("no csrf field on /subscribe/%s: %d", program, resp.StatusCode)
	}
	csrf := page[i+len(`name="csrf" value="`):]
	v.Set("csrf", csrf[:strings.IndexByte(csrf, '"')])
	resp, err = client.PostForm(f.srv.URL+"/subscribe/"+program, v)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ = io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// newConfirmingFixture serves the shipped program, whose confirm-email and
// confirm-sms steps the confirmations are, and sends the confirmations as
// serve does (cli/web.go).
func newConfirmingFixture(t *testing.T) *fixture {
	t.Helper()
	d, clk := testDeps(t)
	shipped, err := programs.Load(programs.Embedded(), "rekindle")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Engine.LoadPrograms(context.Background(), map[string]*programs.Program{"rekindle": shipped}); err != nil {
		t.Fatal(err)
	}
	d.Confirm = func(ctx context.Context, id int64) error {
		return d.Engine.PlanConfirmations(ctx, id, d.Links.Confirm(id, 48*time.Hour))
	}
	h, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{t: t, e: d.Engine, clk: clk, links: d.Links, srv: srv}
}

// Someone who unsubscribed from email but stayed in the program by text,
// and asked support for their emails back (rekindle lift-optout), signs up
// again: they are already in the program, so they are sent an email asking
// to confirm the address, and their texts carry on. The page says what it
// says to anyone, not that they are in the program. The link confirms the
// email, and only then does email count as confirmed.
func TestSignupAgainAfterALiftedOptOutAsksToConfirmTheEmail(t *testing.T) {
	f := newConfirmingFixture(t)
	ctx := context.Background()
	_, enr, err := f.e.Enroll(ctx, scheduler.EnrollRequest{Program: "rekindle", FirstName: "Bea", Email: "back@example.org",
		Phone: "+447911123451", Timezone: "Europe/London", Source: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := f.e.Store.FindSubscriber(ctx, nil, "back@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.OptOut(ctx, sub, "email", "link", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.Store.LiftEmailOptOut(ctx, f.clk.Now(), "back@example.org", "email to support"); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"first_name": {"Bea"}, "email": {"back@example.org"}, "phone": {"+447911123451"},
		"timezone": {"Europe/London"}, "consent_email": {"yes"}, "consent_sms": {"yes"}}
	code, page := f.signupForm("rekindle", form)
	if code != 200 || !strings.Contains(page, "Thank you: please check your messages") || strings.Contains(page, "already in the program.") ||
		strings.Contains(page, "carries on") {
		t.Fatalf("sign-up again: %d\n%s\nwant the page anyone gets", code, page)
	}
	first := page
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND step_key LIKE 'confirm-email%' AND status = 'queued' AND to_addr = 'back@example.org'`, enr); n != 1 {
		t.Fatalf("confirmation emails queued: %d, want 1", n)
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE id = $1 AND email_status = 'pending' AND sms_status = 'confirmed'`, sub.ID); n != 1 {
		t.Fatal("the email is not waiting for confirmation, or the texts stopped")
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'active'`, enr); n != 1 {
		t.Fatal("the running program did not carry on")
	}

	code, page = f.do("POST", local(f.links.Confirm(enr, 48*time.Hour)), "", "")
	if code != 200 || !strings.Contains(page, "Your email address is confirmed") {
		t.Fatalf("confirm: %d %s", code, page)
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE id = $1 AND email_status = 'confirmed'`, sub.ID); n != 1 {
		t.Fatal("the link did not confirm the email")
	}
	// Confirmed now: signing up again sends nothing, and the page is the
	// same one again.
	queued := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND step_key LIKE 'confirm-email%'`, enr)
	if code, again := f.signupForm("rekindle", form); code != 200 || again != first {
		t.Fatalf("sign-up once confirmed: %d\n%s", code, again)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND step_key LIKE 'confirm-email%'`, enr); n != queued {
		t.Fatalf("a sign-up by a confirmed person queued another confirmation: %d -> %d", queued, n)
	}
}
