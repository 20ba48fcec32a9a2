package cli

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestPersonCommandsStopWhenInterrupted: pause, resume and unenroll ran
// their change on context.Background(), not the command's context, so one
// waiting for the person's enrollment (a planner batch, or any transaction
// holding the row) could not be interrupted: rekindle turns SIGINT and
// SIGTERM into the end of that context, and Ctrl-C did nothing at all. The
// command's context reaches the change: interrupted, it stops, exits 1 and
// changes nothing.
func TestPersonCommandsStopWhenInterrupted(t *testing.T) {
	env, db := sweepDB(t)
	for _, cmd := range []string{"pause", "unenroll"} {
		t.Run(cmd, func(t *testing.T) {
			before := dbContents(t, db)
			hold, err := db.Beginx()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := hold.Exec(`SELECT id FROM enrollments FOR UPDATE`); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int, 1)
			var out, errb bytes.Buffer
			go func() {
				done <- Run(ctx, []string{cmd, "--email", "ana@example.org"}, &out, &errb,
					func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			}()
			time.Sleep(500 * time.Millisecond) // waiting for the row by now
			cancel()
			var code int
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				hold.Rollback()
				<-done
				t.Fatalf("%s still running 10s after it was interrupted", cmd)
			}
			hold.Rollback()
			if code != 1 {
				t.Errorf("%s interrupted: exit %d, want 1\nstdout: %s\nstderr: %s", cmd, code, out.String(), errb.String())
			}
			sameContents(t, cmd+" interrupted", before, dbContents(t, db))
		})
	}
}
