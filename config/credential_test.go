package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// DATABASE_URL may come from the database-url credential, as the other
// secrets do from theirs; `rekindle config` then shows where it connects,
// all but the password.
func TestDatabaseURLFromCredentialShowsAllButThePassword(t *testing.T) {
	dir := t.TempDir()
	const dsn = "postgres://rekindle:pg-cred-pw-5512@db.internal:5432/rekindle?sslmode=require"
	os.WriteFile(filepath.Join(dir, "database-url"), []byte(dsn+"\n"), 0o600)
	e := env(map[string]string{"CREDENTIALS_DIRECTORY": dir})
	c, src, err := Load(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != dsn || src["DATABASE_URL"] != "credential" {
		t.Fatalf("DATABASE_URL from the credential: %q (%s)", c.DatabaseURL, src["DATABASE_URL"])
	}
	var out bytes.Buffer
	if err := Print(&out, e, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "pg-cred-pw") {
		t.Fatalf("the password leaked:\n%s", out.String())
	}
	if want := "DATABASE_URL=postgres://rekindle:********@db.internal:5432/rekindle?sslmode=require\t# credential"; !strings.Contains(out.String(), want) {
		t.Fatalf("config lacks %q:\n%s", want, out.String())
	}
	// Without a password there is nothing to hide.
	if err := Print(&out, env(map[string]string{"DATABASE_URL": "host=/run/postgresql dbname=rekindle"}), nil); err != nil ||
		!strings.Contains(out.String(), "DATABASE_URL=host=/run/postgresql dbname=rekindle\t# env") {
		t.Fatalf("config: %v\n%s", err, out.String())
	}
	// The environment wins over the credential, as for every secret.
	if c, src, err := Load(env(map[string]string{"CREDENTIALS_DIRECTORY": dir, "DATABASE_URL": "postgres://db/other"}), nil); err != nil ||
		c.DatabaseURL != "postgres://db/other" || src["DATABASE_URL"] != "env" {
		t.Fatalf("DATABASE_URL in the environment: %q (%s) %v", c.DatabaseURL, src["DATABASE_URL"], err)
	}
}

// The unit loads a credential file for every secret; the ones an operator
// does not use are left empty and count as unset.
func TestEmptyCredentialIsUnset(t *testing.T) {
	dir := t.TempDir()
	for _, v := range Table {
		if v.Credential != "" {
			os.WriteFile(filepath.Join(dir, v.Credential), nil, 0o600)
		}
	}
	c, src, err := Load(env(map[string]string{"CREDENTIALS_DIRECTORY": dir}), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Table {
		if v.Credential != "" && src[v.Name] != "default" {
			t.Errorf("%s from an empty credential: source %s, want the default", v.Name, src[v.Name])
		}
	}
	if c.DatabaseURL != Table[0].Default {
		t.Errorf("DATABASE_URL = %q, want the default", c.DatabaseURL)
	}
}
