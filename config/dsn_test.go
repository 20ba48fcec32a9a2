package config

import (
	"strings"
	"testing"
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
