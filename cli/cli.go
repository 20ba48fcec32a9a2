// Package cli holds rekindle's subcommands. Every command returns an error
// instead of exiting; Run turns it into the exit code: 0 ok, 1 error (one
// line saying why), 2 usage.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/rekindle/rekindle/config"
)

// Env is what a command runs with.
type Env struct {
	Stdout, Stderr io.Writer
	// Lookup reads the environment as os.LookupEnv does: a variable set to
	// "" is not an unset one (REKINDLE_QUIET_HOURS= means none).
	Lookup config.Lookup
}

// Getenv is the variable's value, "" when unset.
func (e *Env) Getenv(name string) string {
	v, _ := e.Lookup(name)
	return v
}

type command struct {
	name, usage string
	run         func(ctx context.Context, env *Env, args []string) error
}

// errUsage marks a usage error (exit 2).
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usagef(format string, a ...any) error { return errUsage{fmt.Sprintf(format, a...)} }

func commands() []command {
	return []command{
		{"serve", "run the daemon: planner, dispatchers, web server", runServe},
		{"demo", "run the shipped program for one demo person on a fast clock", runDemo},
		{"migrate", "apply database migrations", runMigrate},
		{"enroll", "enroll a person: --program P --email E [--phone +E164] --tz ZONE [--name N] [--start DATE]", runEnroll},
		{"status", "counts by program, phase and status; due backlog; deliveries [--json]", runStatus},
		{"pause", "pause a person's programs: --email E | --phone P [--days N]", runPause},
		{"resume", "resume a person's programs: --email E | --phone P", runResume},
		{"unenroll", "end a person's programs: --email E | --phone P", runUnenroll},
		{"unsubscribe", "record an opt-out received elsewhere (a mailto: request): --email E | --phone P", runUnsubscribe},
		{"lift-optout", "lift an email opt-out the person asked to lift; they sign up and confirm again: --email E --request TEXT", runLiftOptOut},
		{"programs", "programs validate [DIR | --programs-dir DIR] | timeline PROGRAM --tz Z --start D | preview PROGRAM STEP | versions | migrate --from V --to V [--map old=new] [--dry-run]", runPrograms},
		{"subscribers", "one person's data: subscribers show|export|erase (--email E | --phone P | --id N) [--yes]", runSubscribers},
		{"send-test", "send one test message: --email ADDR | --phone NUMBER", runSendTest},
		{"config", "print the effective configuration, secrets masked", runConfig},
		{"bench", "measure planner and dispatcher on a bench database: [--enrollments N] [--due D] [--reps 3] [--plan-only] [--rate R --duration T] [--json]", runBench},
	}
}

// Run runs one subcommand, reading the environment through lookup
// (os.LookupEnv).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	env := &Env{Stdout: stdout, Stderr: stderr, Lookup: lookup}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		var u errUsage
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &u):
			fmt.Fprintf(stderr, "rekindle %s: %s\n", c.name, u.msg)
			return 2
		default:
			// Multi-problem errors (program validation) keep one problem a line.
			// The line names the command already: a package's own prefix
			// of the same word ("migrate: ...") would say it twice.
			fmt.Fprintf(stderr, "rekindle %s: %s\n", c.name, strings.TrimPrefix(err.Error(), c.name+": "))
			return 1
		}
	}
	fmt.Fprintf(stderr, "rekindle: unknown command %q\n", args[0])
	printUsage(stderr)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: rekindle COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nEvery setting is an environment variable (see `rekindle config`); serve, config and send-test also take each as a flag\n"+
		"of the same name (--smtp-host). The other commands take --database-url and --programs-dir (or --programs) where they use them.")
}

// flagSet makes a flag set that reports errors instead of exiting.
func flagSet(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("rekindle "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parseNoArgs is parse for a command that takes no positional argument.
// Go's flag package stops at the first word that is not a flag, so a stray
// word would otherwise drop every flag after it without a word.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q: every value goes with its flag", fs.Arg(0))
	}
	return nil
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage{err.Error()}
	}
	return nil
}
