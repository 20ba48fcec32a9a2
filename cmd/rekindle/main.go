// Command rekindle runs coaching programs over email and SMS.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/rekindle/rekindle/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}
