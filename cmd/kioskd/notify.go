package main

import (
	"context"
	"log/slog"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// notifier speaks sd_notify: READY once the kiosk can take money, STATUS
// lines a technician sees in `systemctl status`, and WATCHDOG pings only
// while every part that must answer does. Outside systemd it does nothing.
type notifier struct {
	log *slog.Logger
	// alive runs the liveness checks (UI loop, engine loop, journal);
	// any error withholds the watchdog ping so systemd restarts us.
	alive func(ctx context.Context) error
	// status is the one-line state for STATUS=.
	status func() string
}

func (n *notifier) ready() {
	if ok, err := sd.SdNotify(false, sd.SdNotifyReady); err != nil {
		n.log.Warn("sd_notify READY failed", "err", err)
	} else if ok {
		n.log.Info("told systemd we are ready")
	}
}

func (n *notifier) stopping() {
	sd.SdNotify(false, sd.SdNotifyStopping)
}

// run pings the watchdog and refreshes STATUS until ctx ends.
func (n *notifier) run(ctx context.Context) {
	interval, err := sd.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		interval = 0
	}
	tick := 5 * time.Second
	if interval > 0 && interval/3 < tick {
		tick = interval / 3
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	last := ""
	for {
		if s := n.status(); s != last {
			sd.SdNotify(false, "STATUS="+s)
			last = s
		}
		if interval > 0 {
			cctx, cancel := context.WithTimeout(ctx, tick/2)
			err := n.alive(cctx)
			cancel()
			if err == nil {
				sd.SdNotify(false, sd.SdNotifyWatchdog)
			} else if ctx.Err() == nil {
				n.log.Error("liveness check failed: withholding the watchdog ping", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
