package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// The base URL shows the programs one can sign up for, each linked to its
// sign-up page, and that page opens. Other unknown paths stay not found.
func TestIndexListsProgramsToJoin(t *testing.T) {
	f := newFixture(t)
	before := f.state()
	code, page := f.do("GET", "/", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /: %d\n%s", code, mainOf(page))
	}
	body := mainOf(page)
	for _, want := range []string{
		"<h1>Programs you can join</h1>",
		`<a href="` + base + `/subscribe/basic">Basic</a>`,
		"A test program.",
		"help@rekindle.test",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / lacks %q:\n%s", want, body)
		}
	}
	if !strings.Contains(page, "<title>Programs you can join</title>") {
		t.Errorf("GET / is not in the site's layout:\n%s", page)
	}
	if code, page := f.do("GET", "/subscribe/basic", "", ""); code != 200 || !strings.Contains(page, "Join Basic") {
		t.Errorf("the linked sign-up page: %d\n%s", code, mainOf(page))
	}
	if code, _ := f.do("HEAD", "/", "", ""); code != http.StatusOK {
		t.Errorf("HEAD /: %d", code)
	}
	for _, path := range []string{"/nope", "/subscribe", "/index.html", "/subscribe/"} {
		if code, page := f.do("GET", path, "", ""); code != http.StatusNotFound || !strings.Contains(page, "Page not found") {
			t.Errorf("GET %s: %d, want the 404 page", path, code)
		}
	}
	if code, _ := f.do("POST", "/", "application/x-www-form-urlencoded", "x=1"); code == http.StatusOK {
		t.Errorf("POST /: %d, want it refused", code)
	}
	sameState(t, "GET /", before, f.state())
}

// With no program loaded, the page says so instead of showing an empty list.
func TestIndexWithNoPrograms(t *testing.T) {
	f := newFixture(t)
	if err := f.e.LoadPrograms(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	code, page := f.do("GET", "/", "", "")
	if code != http.StatusOK || !strings.Contains(page, "There are no programs open for sign-up just now.") || strings.Contains(page, "<ul>") {
		t.Fatalf("GET / with no programs: %d\n%s", code, mainOf(page))
	}
}
