// Package faults is rekindle's fault suite: it runs the real binary
// (`rekindle serve`) against the project's fake SMTP and Twilio servers and a
// real PostgreSQL, breaks things on purpose, and checks what the providers
// received: nothing lost, nothing sent twice except in the one documented
// window, nothing sent after an opt-out took effect.
//
// Scenarios (each in its own file): crash (kill -9 at random moments),
// database (a private PostgreSQL restarted mid-run), providers (SMTP and
// Twilio errors, hangs and outages), instances (three serve processes on one
// database) and opt-out (STOP and one-click unsubscribe racing the
// dispatcher).
//
//	go test -count=1 ./faults                                        # short form (CI)
//	REKINDLE_FAULTS=full go test -count=1 -timeout 30m -v ./faults   # the full numbers
//
// REKINDLE_FAULTS_SEED=n replays a run's random choices (the seed is
// printed). The suite ends by printing a Markdown summary table: scenario,
// runs, lost, duplicates, max recovery time.
//
// The package has no code outside its tests; this file only documents it.
package faults
