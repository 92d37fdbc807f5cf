package daemon

import (
	"context"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"
)

// notifyReady tells systemd (Type=notify) that the daemon is up. Outside
// systemd it does nothing.
func notifyReady(log *zap.Logger) {
	if ok, err := sddaemon.SdNotify(false, sddaemon.SdNotifyReady); err != nil {
		log.Warn("sd_notify READY failed", zap.Error(err))
	} else if ok {
		log.Debug("told systemd we are ready")
	}
}

// notifyStopping tells systemd the daemon is shutting down.
func notifyStopping() {
	_, _ = sddaemon.SdNotify(false, sddaemon.SdNotifyStopping) // best effort while exiting
}

// watchdog pets systemd's watchdog (WatchdogSec=) at half its interval,
// but only while live() passes: a stuck loop lets systemd restart us.
func watchdog(ctx context.Context, live func() error, log *zap.Logger) {
	interval, err := sddaemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := live(); err != nil {
				log.Error("not petting the systemd watchdog", zap.Error(err))
				continue
			}
			_, _ = sddaemon.SdNotify(false, sddaemon.SdNotifyWatchdog) // a lost pet is retried next tick
		}
	}
}
