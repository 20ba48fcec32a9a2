// Package notify speaks the systemd service notification protocol
// (sd_notify) for the daemon: readiness, reload, stopping, free-form status,
// and a watchdog that is fed only while the daemon is healthy.
//
// Every method is a no-op when the process was not started by systemd with
// Type=notify (NOTIFY_SOCKET unset), so the daemon runs the same way in a
// terminal, in tests and under systemd. A nil *Notifier is also a no-op.
package notify

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Notifier sends state changes to the service manager. It is safe for
// concurrent use. The zero value is usable and logs nothing.
type Notifier struct {
	log *slog.Logger
}

// New returns a Notifier that logs failures and watchdog transitions to
// logger (nil discards them).
func New(logger *slog.Logger) *Notifier {
	return &Notifier{log: logger}
}

func (n *Notifier) logger() *slog.Logger {
	if n == nil || n.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return n.log
}

// Enabled reports whether a service manager is listening (NOTIFY_SOCKET set).
func Enabled() bool { return os.Getenv("NOTIFY_SOCKET") != "" }

// send writes one notification datagram; failures are logged, not returned,
// since the daemon must keep working when the manager cannot be reached.
func (n *Notifier) send(state string) {
	if n == nil || !Enabled() {
		return
	}
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.logger().Warn("sd_notify failed", "state", firstLine(state), "err", err)
	}
}

// Ready tells systemd that startup is finished (READY=1). With Type=notify
// systemd considers the unit started only after this.
func (n *Notifier) Ready() { n.send(daemon.SdNotifyReady) }

// Stopping tells systemd that a graceful shutdown has begun (STOPPING=1).
func (n *Notifier) Stopping() { n.send(daemon.SdNotifyStopping) }

// Reloading tells systemd that the daemon is reloading its configuration
// (RELOADING=1, with MONOTONIC_USEC as newer systemd versions require). Call
// ReloadDone when the reload has finished, whether or not it succeeded.
func (n *Notifier) Reloading() {
	n.send(daemon.SdNotifyReloading + "\n" + daemon.SdNotifyMonotonicUsec())
}

// ReloadDone tells systemd that a reload has finished (READY=1).
func (n *Notifier) ReloadDone() { n.send(daemon.SdNotifyReady) }

// Status sets the one-line status shown by systemctl status (STATUS=...).
// Newlines are replaced by spaces.
func (n *Notifier) Status(status string) {
	status = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(status)
	n.send("STATUS=" + status)
}

// WatchdogInterval returns the watchdog timeout systemd asked for
// (WatchdogSec=), or 0 when the watchdog is off for this process.
func WatchdogInterval() (time.Duration, error) {
	return daemon.SdWatchdogEnabled(false)
}

// RunWatchdog feeds the systemd watchdog until ctx is done. Every half
// watchdog interval it calls healthy (serve passes a liveness check of its
// loops) with a deadline of that half interval, and sends WATCHDOG=1 only if
// it returned nil: a daemon whose check fails stops feeding the watchdog and
// systemd restarts it after WatchdogSec. Transitions between fed and starved
// are logged once each. A nil healthy counts as always healthy.
//
// When NOTIFY_SOCKET or WATCHDOG_USEC is unset (or WATCHDOG_PID names another
// process) RunWatchdog returns at once without doing anything.
func (n *Notifier) RunWatchdog(ctx context.Context, healthy func(context.Context) error) {
	if n == nil || !Enabled() {
		return
	}
	log := n.logger()
	interval, err := WatchdogInterval()
	if err != nil {
		log.Warn("watchdog disabled: bad systemd environment", "err", err)
		return
	}
	if interval <= 0 {
		return
	}
	period := interval / 2
	log.Info("watchdog enabled", "timeout", interval, "period", period)

	const (
		unknown = iota
		fed
		starved
	)
	state := unknown
	check := func() {
		var err error
		if healthy != nil {
			hctx, cancel := context.WithTimeout(ctx, period)
			err = healthy(hctx)
			cancel()
		}
		if ctx.Err() != nil {
			return // shutting down: neither feed nor log a spurious failure
		}
		if err != nil {
			if state != starved {
				log.Warn("watchdog not fed: health check failing; systemd will restart the service if this persists",
					"err", err, "timeout", interval)
			}
			state = starved
			return
		}
		if _, serr := daemon.SdNotify(false, daemon.SdNotifyWatchdog); serr != nil {
			if state != starved {
				log.Warn("watchdog not fed: sd_notify failed", "err", serr)
			}
			state = starved
			return
		}
		if state != fed {
			log.Info("watchdog fed: health check passing")
		}
		state = fed
	}

	check()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			log.Info("watchdog stopped")
			return
		case <-t.C:
			check()
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
