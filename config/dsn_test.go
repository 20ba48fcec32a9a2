package config

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lib/pq"
)

func TestDatabasePasswordInEveryForm(t *testing.T) {
	for _, c := range []struct{ dsn, pw, shown string }{
		{"postgres://root:hunter2@db:5432/x?sslmode=disable", "hunter2", "postgres://root:********@db:5432/x?sslmode=disable"},
		{"postgres://root:hunter2@h:notaport/x", "hunter2", "postgres://root:********@h:notaport/x"},
		{"postgres://rekindle@db/rekindle", "", "postgres://rekindle@db/rekindle"},
		{"postgres://db/rekindle?user=a@b", "", "postgres://db/rekindle?user=a@b"},
		{"postgres://u:p@ss/w@rd@db/x", "p@ss/w@rd", "postgres://u:********@db/x"},
		{"postgresql://same:same@db/same", "same", "postgresql://same:********@db/same"},
		{"host=db password=hunter2 dbname=x", "hunter2", "host=db password=******** dbname=x"},
		{"password='hun ter2' host=db", "'hun ter2'", "password=******** host=db"},
		{"host=db dbname=x", "", "host=db dbname=x"},
	} {
		if got := DatabasePassword(c.dsn); got != c.pw {
			t.Errorf("DatabasePassword(%q) = %q, want %q", c.dsn, got, c.pw)
		}
		if got := RedactDatabaseURL(c.dsn, "********"); got != c.shown {
			t.Errorf("RedactDatabaseURL(%q) = %q, want %q", c.dsn, got, c.shown)
		}
	}
}

func TestRedactPasswordFromMessages(t *testing.T) {
	for _, c := range []struct{ msg, dsn, pw string }{
		{`parse "postgres://root:hunter2@h:notaport/x": invalid port`, "postgres://root:hunter2@h:notaport/x", "hunter2"},
		{`connect as root with p@ss word`, "postgres://root:p%40ss%20word@db/x", "p@ss word"},
		{`missing "=" after "h\"t" in connection info string`, `password='h"t' host=db`, `h\"t`},
	} {
		got := RedactPassword(c.msg, c.dsn)
		if strings.Contains(got, c.pw) {
			t.Errorf("RedactPassword(%q) = %q: still holds %q", c.msg, got, c.pw)
		}
	}
}

func TestCheckDatabaseURLDoesNotEchoIt(t *testing.T) {
	for _, dsn := range []string{"postgres://root:hunter2@h:notaport/x", "mysql://root:hunter2@db/x", "hunter2", "postgres://root:hun%zzter2@db/x"} {
		err := CheckDatabaseURL(dsn)
		if err == nil {
			t.Errorf("%q: accepted", dsn)
			continue
		}
		if strings.Contains(err.Error(), "hun") {
			t.Errorf("%q: the error quotes the password: %v", dsn, err)
		}
	}
	for _, dsn := range []string{"postgres://db/x", "postgresql:///x?host=/run/postgresql", "host=db dbname=x"} {
		if err := CheckDatabaseURL(dsn); err != nil {
			t.Errorf("%q: %v", dsn, err)
		}
	}
}

// A DATABASE_URL that does not parse is refused naming it, and the error
// holds no part of the password, whatever made the URL unreadable (a / ? or
// # in the password makes the rest of it read as the port, and url.Parse
// quotes the port).
func TestDatabaseURLErrorHoldsNoPartOfThePassword(t *testing.T) {
	for _, c := range []struct{ dsn, pw string }{
		{"postgres://app:Sup3rS3cret/x@db/rekindle", "Sup3rS3cret/x"},
		{"postgres://app:Qz7v?Kw9m@db/rekindle", "Qz7v?Kw9m"},
		{"postgres://app:Zq9#Xv7k@db:5432/rekindle", "Zq9#Xv7k"},
		{"postgres://app:Jh8w%zzTq4@db/rekindle", "Jh8w%zzTq4"},
		{"postgres://a pp:Vb6nMx3q@db/rekindle", "Vb6nMx3q"},
		{"postgres://app:Rt5y/Uk2p@[::1/rekindle", "Rt5y/Uk2p"},
	} {
		_, _, err := Load(env(map[string]string{"DATABASE_URL": c.dsn}), nil)
		if err == nil {
			t.Errorf("%q: accepted", c.dsn)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "DATABASE_URL") || !strings.Contains(msg, "percent-encoded") {
			t.Errorf("%q: %q should name DATABASE_URL and say a password must be percent-encoded", c.dsn, msg)
		}
		for i := 0; i+4 <= len(c.pw); i++ {
			if part := c.pw[i : i+4]; strings.Contains(msg, part) {
				t.Errorf("%q: the error holds %q of the password: %s", c.dsn, part, msg)
				break
			}
		}
	}
}

// lib/pq takes a password as a query parameter of the URL too; `rekindle
// config` masks it there, and error messages lose it, in every shape.
func TestDatabasePasswordQueryParameterIsMasked(t *testing.T) {
	for _, c := range []struct{ dsn, shown string }{
		{"postgres://app:pw@db/rekindle?password=Sup3rS3cret", "postgres://app:********@db/rekindle?password=********"},
		{"postgres://db/rekindle?sslmode=disable&password=Sup3rS3cret", "postgres://db/rekindle?sslmode=disable&password=********"},
		{"postgres://app@db/rekindle?Password=Sup3rS3cret&sslmode=require", "postgres://app@db/rekindle?Password=********&sslmode=require"},
		{"postgres://db/rekindle?pass%77ord=Sup3rS3cret", "postgres://db/rekindle?pass%77ord=********"},
		{"postgresql://db/rekindle?password=x&password=Sup3rS3cret", "postgresql://db/rekindle?password=********&password=********"},
		{"postgres://db/rekindle?password=Sup3r%2FS3cret#frag", "postgres://db/rekindle?password=********"},
		{"host=db password=Sup3rS3cret dbname=x password='Sup3rS3cret too'", "host=db password=******** dbname=x password=********"},
	} {
		if got := RedactDatabaseURL(c.dsn, "********"); got != c.shown {
			t.Errorf("RedactDatabaseURL(%q) = %q, want %q", c.dsn, got, c.shown)
		}
		var out bytes.Buffer
		if err := Print(&out, env(map[string]string{"DATABASE_URL": c.dsn}), nil); err != nil {
			t.Errorf("%q: %v", c.dsn, err)
			continue
		}
		if strings.Contains(out.String(), "S3cret") || !strings.Contains(out.String(), "DATABASE_URL="+c.shown+"\t") {
			t.Errorf("config with %q printed:\n%s", c.dsn, firstLine(out.String()))
		}
	}
	for _, c := range []struct{ msg, dsn string }{
		{`pq: password authentication failed (password "Sup3r S3cret")`, "postgres://db/x?password=Sup3r+S3cret"},
		{`pq: password authentication failed (password "Sup3r/S3cret")`, "postgres://app:pw@db/x?password=Sup3r%2FS3cret"},
	} {
		if got := RedactPassword(c.msg, c.dsn); strings.Contains(got, "S3cret") {
			t.Errorf("RedactPassword(%q, %q) = %q", c.msg, c.dsn, got)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// key=value settings are read as lib/pq reads them: spaces around = are
// fine, a value is quoted only where it begins. Settings lib/pq would
// refuse are refused first, in words that quote nothing, and masked from
// the password on, so no part of a password reaches an error or the
// printed configuration.
func TestKeyValuePasswordsAsLibPQReadsThem(t *testing.T) {
	for _, c := range []struct{ dsn, masked string }{
		{"host=db password='se cret' dbname=x", "host=db password=******** dbname=x"},
		{"host=db password = s3cret dbname=x", "host=db password = ******** dbname=x"},
		{"host=127.0.0.1 dbname = rk", "host=127.0.0.1 dbname = rk"},
		{"host=/var/run/postgresql dbname=x", "host=/var/run/postgresql dbname=x"},
		{`password=a\ b dbname=x`, "password=******** dbname=x"},
	} {
		if err := CheckDatabaseURL(c.dsn); err != nil {
			t.Errorf("%q refused: %v", c.dsn, err)
		}
		if got := RedactDatabaseURL(c.dsn, "********"); got != c.masked {
			t.Errorf("%q masked as %q, want %q", c.dsn, got, c.masked)
		}
	}
	for _, c := range []struct{ dsn, secret, why string }{
		{"host=db password=se cretXYZ dbname=rekindle", "cretXYZ", "single quotes"},
		{"host=db password='abc def", "def", "not closed"},
		{"host=db password=abc'x yz' dbname=q", "yz", "single quotes"},
	} {
		err := CheckDatabaseURL(c.dsn)
		if err == nil || strings.Contains(err.Error(), c.secret) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%q: %v; want it refused (%s), quoting nothing", c.dsn, err, c.why)
		}
		if got := RedactDatabaseURL(c.dsn, "********"); strings.Contains(got, c.secret) || !strings.HasPrefix(got, "host=db ") {
			t.Errorf("%q masked as %q: part of the password shows, or the host is hidden", c.dsn, got)
		}
	}
}

// What `rekindle config` shows of DATABASE_URL names the server, port,
// user and database lib/pq connects to, also when a password or a query
// value holds an @; a URL lib/pq would read differently from how its writer
// most likely meant it (an @ after the host) is refused, naming the
// variable and quoting nothing.
func TestMaskedDatabaseURLNamesTheServerLibPQConnectsTo(t *testing.T) {
	withoutPassword := func(dsn string) string {
		kv, err := pq.ParseURL(dsn)
		if err != nil {
			t.Fatalf("lib/pq cannot read %q: %v", dsn, err)
		}
		var out []string
		for _, f := range strings.Fields(kv) {
			if !strings.HasPrefix(f, "password=") {
				out = append(out, f)
			}
		}
		return strings.Join(out, " ")
	}
	for _, dsn := range []string{
		"postgres://rekindle:p@ss@db.internal:5432/rekindle",
		"postgres://db.internal:5432/rekindle?application_name=ops@jump",
		"postgres://rekindle:p@ss@db.internal:5432/rekindle?application_name=ops@jump&sslmode=disable",
		"postgres://rekindle:p@ss@db.internal:5432/app%40staging",
	} {
		var out bytes.Buffer
		if err := Print(&out, env(map[string]string{"DATABASE_URL": dsn}), nil); err != nil {
			t.Errorf("%q: %v", dsn, err)
			continue
		}
		shown, _, _ := strings.Cut(strings.TrimPrefix(firstLine(out.String()), "DATABASE_URL="), "\t")
		if strings.Contains(shown, "p@ss") {
			t.Errorf("config shows the password of %q: %s", dsn, shown)
		}
		if got, want := withoutPassword(shown), withoutPassword(dsn); got != want {
			t.Errorf("config shows %s: lib/pq reads that as %s, but connects with %s", shown, got, want)
		}
	}
	const bad = "postgres://rekindle:p@ss/w0rd@db.internal:5432/rekindle"
	_, _, err := Load(env(map[string]string{"DATABASE_URL": bad}), nil)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") || !strings.Contains(err.Error(), "%40") {
		t.Fatalf("%s (lib/pq would connect to host ss): err %v, want DATABASE_URL refused, saying how to encode", bad, err)
	}
	if strings.Contains(err.Error(), "p@ss") || strings.Contains(err.Error(), "w0rd") {
		t.Errorf("the error quotes the password: %v", err)
	}
}
