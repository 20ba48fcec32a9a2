package faults

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// privatePG is a PostgreSQL cluster of the test's own, so that restarting
// it disturbs nothing else (the shared server on 5432 is left alone). It
// runs as the postgres user from a temporary directory and is stopped and
// removed when the test ends, pass or fail.
type privatePG struct {
	t    *testing.T
	dir  string
	port int
}

func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	for _, tool := range []string{"initdb", "pg_ctl"} {
		if _, err := os.Stat(filepath.Join(pgBin, tool)); err != nil {
			t.Fatalf("the database scenario needs PostgreSQL 15's %s: %v", tool, err)
		}
	}
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("the database scenario runs its cluster as user postgres: %v", err)
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)
	// Not t.TempDir: its parent is private to root, and postgres must reach
	// this directory.
	dir, err := os.MkdirTemp("", "rekindle-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg := &privatePG{t: t, dir: dir}
	t.Cleanup(pg.remove)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(freeAddr(t))
	pg.port, _ = strconv.Atoi(p)
	pg.run("initdb", "-D", pg.data(), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	pg.start()
	return pg
}

func (pg *privatePG) data() string { return filepath.Join(pg.dir, "data") }

// dsn names a database on the private cluster.
func (pg *privatePG) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.port, db)
}

// run runs a PostgreSQL tool as the postgres user.
func (pg *privatePG) run(tool string, args ...string) {
	pg.t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pgBin, tool)}, args...)...)
	cmd.Dir = pg.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		pg.t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
}

// start starts the server and waits until it accepts connections.
func (pg *privatePG) start() {
	pg.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", pg.port, pg.dir)
	pg.run("pg_ctl", "-D", pg.data(), "-o", opts, "-l", filepath.Join(pg.dir, "server.log"), "-w", "-t", "60", "start")
}

// stop shuts the server down the way a restart does: connections are cut
// ("fast" mode) and it waits until the server is gone.
func (pg *privatePG) stop() {
	pg.t.Helper()
	pg.run("pg_ctl", "-D", pg.data(), "-m", "fast", "-w", "-t", "60", "stop")
}

// remove stops the server if it runs and deletes the cluster.
func (pg *privatePG) remove() {
	if _, err := os.Stat(filepath.Join(pg.data(), "postmaster.pid")); err == nil {
		cmd := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(pgBin, "pg_ctl"), "-D", pg.data(), "-m", "immediate", "-w", "-t", "30", "stop")
		if out, err := cmd.CombinedOutput(); err != nil {
			pg.t.Logf("stopping the private PostgreSQL: %v\n%s", err, out)
		}
	}
	if err := os.RemoveAll(pg.dir); err != nil {
		pg.t.Logf("removing the private PostgreSQL: %v", err)
	}
}
