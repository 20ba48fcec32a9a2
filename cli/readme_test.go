package cli

import (
	"os"
	"strings"
	"testing"
)

// README's route table describes the check-in link as it behaves: the link
// from an email opens a page (GET records nothing, as mail scanners open
// links too) and the answer is recorded by the page's button (a POST). It
// is not one click, as the unsubscribe link is.
func TestReadmeCheckinLinkIsNotOneClick(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile("../templates/web/checkin.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `<form method="post">`) || !strings.Contains(string(page), `<button type="submit">`) {
		t.Fatal("templates/web/checkin.html no longer answers with a button: revisit README's check-in row and this test")
	}
	var row string
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, "| `GET/POST /checkin/") {
			row = l
		}
	}
	switch {
	case row == "":
		t.Fatal("README has no route row for /checkin")
	case strings.Contains(strings.ToLower(row), "one-click") || strings.Contains(strings.ToLower(row), "one click"):
		t.Errorf("README calls check-in answers one click; the link opens a page with a button:\n%s", row)
	case !strings.Contains(row, "button"):
		t.Errorf("README's check-in row does not say the answer is sent with the page's button:\n%s", row)
	}
}
