package faults

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemon is one `rekindle serve` process of the real binary, restartable.
// Its output goes to a log file per start, shown when the test fails.
type daemon struct {
	t      *testing.T
	bin    string
	name   string
	env    []string
	base   string // http://127.0.0.1:port
	logDir string
	starts int

	cmd    *exec.Cmd
	exited chan struct{} // closed when the current process has exited
	err    error         // its exit status, once exited is closed
}

// freeAddr returns a local address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// newDaemon prepares a serve process with settings (environment variables;
// REKINDLE_LISTEN and REKINDLE_BASE_URL are filled in). It is not started.
func newDaemon(t *testing.T, bin, name string, settings map[string]string) *daemon {
	t.Helper()
	addr := freeAddr(t)
	settings["REKINDLE_LISTEN"] = addr
	settings["REKINDLE_BASE_URL"] = "http://" + addr
	env := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	d := &daemon{t: t, bin: bin, name: name, env: env, base: "http://" + addr, logDir: t.TempDir()}
	t.Cleanup(func() {
		if d.running() {
			d.kill()
		}
		if t.Failed() {
			d.dumpLogs()
		}
	})
	return d
}

// start launches the process. SMS quiet hours are switched off (the flag
// with an empty value) so that retries are not deferred to the morning when
// the suite runs in the evening.
func (d *daemon) start() {
	d.t.Helper()
	d.starts++
	logf, err := os.Create(filepath.Join(d.logDir, fmt.Sprintf("%s-%02d.log", d.name, d.starts)))
	if err != nil {
		d.t.Fatal(err)
	}
	cmd := exec.Command(d.bin, "serve", "--quiet-hours=")
	cmd.Env = d.env
	cmd.Stdout, cmd.Stderr = logf, logf
	// The process must not outlive the test binary, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		d.t.Fatalf("%s: start: %v", d.name, err)
	}
	d.cmd, d.exited = cmd, make(chan struct{})
	exited := d.exited
	go func() {
		d.err = cmd.Wait()
		logf.Close()
		close(exited)
	}()
}

func (d *daemon) running() bool {
	if d.exited == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// ready polls /readyz until it answers 200, failing the test if the process
// exits or timeout passes.
func (d *daemon) waitReady(timeout time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !d.running() {
			d.t.Fatalf("%s exited before it was ready: %v", d.name, d.err)
		}
		if d.readyz() == http.StatusOK {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("%s not ready after %s", d.name, timeout)
}

// readyz returns /readyz's status code, or 0 when nothing answered.
func (d *daemon) readyz() int {
	c := http.Client{Timeout: 3 * time.Second}
	r, err := c.Get(d.base + "/readyz")
	if err != nil {
		return 0
	}
	r.Body.Close()
	return r.StatusCode
}

// kill sends SIGKILL and waits for the process to be gone.
func (d *daemon) kill() {
	d.t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		d.t.Fatalf("%s survived SIGKILL", d.name)
	}
}

// stop sends SIGTERM and requires a clean exit (status 0) within timeout.
func (d *daemon) stop(timeout time.Duration) {
	d.t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
		if d.err != nil {
			d.t.Errorf("%s exited with %v after SIGTERM, want status 0", d.name, d.err)
		}
	case <-time.After(timeout):
		d.t.Errorf("%s still running %s after SIGTERM", d.name, timeout)
		d.kill()
	}
}

// logText returns everything the process wrote, over all its starts.
func (d *daemon) logText() string {
	files, _ := filepath.Glob(filepath.Join(d.logDir, d.name+"-*.log"))
	sort.Strings(files)
	var b bytes.Buffer
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b.Write(data)
	}
	return b.String()
}

func (d *daemon) dumpLogs() {
	lines := strings.Split(strings.TrimRight(d.logText(), "\n"), "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	d.t.Logf("last lines of %s's log (all starts):\n%s", d.name, strings.Join(lines, "\n"))
}
