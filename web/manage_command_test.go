package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/scheduler"
)

// Someone who gets no texts cannot reply MOVED ON, and the readiness
// check-in asks about a new partner only once. The manage page offers the
// program's track-switching commands (docs/program-format.md: "and
// manage-page actions"), says what the button does, and pressing it
// switches the program as the text does. Once switched, the button is
// gone.
func TestManagePageOffersMovedOn(t *testing.T) {
	f := newFixture(t)
	sub, enr := f.enroll("noTexts@example.org", "")
	path := local(f.links.Manage(sub))
	_, page := f.do("GET", path, "", "")
	got := visible(page)
	if !strings.Contains(page, `name="command" value="moved on"><button type="submit" class="button-secondary" aria-describedby="command-`) ||
		!strings.Contains(got, "Moved on Switches your program to the other lessons, as replying MOVED ON to one of our texts does.") {
		t.Fatalf("manage page, main track: want a Moved on button that says what it does:\n%s", got)
	}

	form := url.Values{"enrollment": {itoa(enr)}, "action": {"command"}, "command": {"moved on"}}
	if loc := postManage(t, f, path, form); loc != path+"?done=switched" {
		t.Fatalf("pressing Moved on: redirect to %q, want ?done=switched", loc)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND track = 'other' AND status = 'active'`, enr); n != 1 {
		t.Fatal("pressing Moved on did not switch the track")
	}
	_, page = f.do("GET", path+"?done=switched", "", "")
	got = visible(page)
	if !strings.Contains(got, "Your program has changed course") || strings.Contains(got, "Moved on Switches") {
		t.Errorf("manage page after the switch: want it said, and no button to switch again:\n%s", got)
	}

	// Pressed again (an old tab): nothing changes, and the page says so.
	if loc := postManage(t, f, path, form); loc != path+"?done=unchanged" {
		t.Errorf("pressing Moved on again: redirect to %q, want ?done=unchanged", loc)
	}
}

// postManage posts the manage form and returns where it redirects.
func postManage(t *testing.T, f *fixture, path string, form url.Values) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(f.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("manage POST: %d, want 303", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// The shipped welcome email tells people without texts how to say their ex
// has a new partner after week three: the button on the manage page, named
// as it reads there (the command's label). The page of someone in the
// shipped program has that button.
func TestShippedWelcomePointsToTheMovedOnButton(t *testing.T) {
	f := newConfirmingFixture(t)
	p := f.e.Programs()["rekindle"]
	body := ""
	if c := p.Content["messages/welcome.md"]; c != nil {
		body = c.Body
	}
	if !strings.Contains(body, `press **They have a new partner** on the "Manage your program" page`) {
		t.Fatalf("the welcome email does not point to the Moved on button:\n%s", body)
	}
	sub, _, err := f.e.Enroll(context.Background(), scheduler.EnrollRequest{Program: "rekindle", FirstName: "Ola", Email: "shipped-movedon@example.org",
		Timezone: "Europe/London", Source: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	got := visible(pageOf(f, sub))
	if !strings.Contains(got, "They have a new partner Switches your program to the moving-on lessons") {
		t.Errorf("manage page, shipped program: want the button the welcome names:\n%s", got)
	}
}

// The manage page runs only the commands it offers (those that switch
// track). A posted command that sends a message instead ("rough day" in a
// newer version) would act while the page said nothing changed: it is not
// run, and nothing is planned.
func TestManagePageRunsOnlyTheCommandsItOffers(t *testing.T) {
	f := newFixture(t)
	f.withRoughDay(t)
	sub, enr := f.enroll("offered@example.org", "")
	path := local(f.links.Manage(sub))
	if got := visible(pageOf(f, sub)); strings.Contains(got, "Rough day") || !strings.Contains(got, "Moved on") {
		t.Fatalf("manage page: want Moved on offered and Rough day not:\n%s", got)
	}
	form := url.Values{"enrollment": {itoa(enr)}, "action": {"command"}, "command": {"rough day"}}
	if loc := postManage(t, f, path, form); loc != path+"?done=unchanged" {
		t.Errorf("posting a command the page does not offer: redirect to %q, want ?done=unchanged", loc)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND step_key LIKE 'first-aid@%'`, enr); n != 0 {
		t.Errorf("a command the page does not offer ran: %d first-aid messages planned", n)
	}
}

// The shipped program's MOVED ON has a label: its manage-page button says
// what happened in the person's words, the readiness question's ("They
// have a new partner"), not a bare "Moved on"; the hint still names the
// text that does the same.
func TestManagePageButtonUsesTheCommandsLabel(t *testing.T) {
	f := newConfirmingFixture(t)
	sub, _, err := f.e.Enroll(context.Background(), scheduler.EnrollRequest{Program: "rekindle", FirstName: "Sam", Email: "label@example.org", Timezone: "Europe/London", Source: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	_, page := f.do("GET", local(f.links.Manage(sub)), "", "")
	got := visible(page)
	if !strings.Contains(page, `name="command" value="moved on"><button`) ||
		!strings.Contains(got, "They have a new partner Switches your program to the moving-on lessons, as replying MOVED ON to one of our texts does.") ||
		strings.Contains(got, "Moved on Switches") {
		t.Errorf("manage page: want the button labelled \"They have a new partner\":\n%s", got)
	}
}
