package main

// The Debian package's maintainer scripts. They never enable or start
// vpcroute: it changes the VPC's route tables, so an operator starts it
// once its config file is right (`systemctl enable --now vpcroute`). An
// upgrade restarts it only if it was running, so the new binary runs.
// Each does nothing when systemd is not the running init (a container, a
// chroot, an image build).

// systemdRunning is the test every script makes before calling systemctl.
const systemdRunning = `[ -d /run/systemd/system ]`

// postinst makes systemd read the unit file.
const postinst = `#!/bin/sh
set -e
if [ "$1" = configure ] && ` + systemdRunning + `; then
	systemctl --system daemon-reload >/dev/null || true
	# $2 is the version replaced: an upgrade, not a first install.
	if [ -n "$2" ]; then
		systemctl try-restart vpcroute.service || true
	fi
fi
exit 0
`

// prerm stops the daemon when the package is removed (not upgraded). The
// routes and iptables rules stay, as after any stop: `vpcroute sync
// --remove` takes a host out.
const prerm = `#!/bin/sh
set -e
if [ "$1" = remove ] && ` + systemdRunning + `; then
	systemctl stop vpcroute.service || true
fi
exit 0
`

// postrm forgets the removed unit file, and on purge the operator's
// enablement of it.
const postrm = `#!/bin/sh
set -e
if [ "$1" = purge ] && command -v systemctl >/dev/null; then
	systemctl disable vpcroute.service >/dev/null 2>&1 || true
fi
if ` + systemdRunning + `; then
	systemctl --system daemon-reload >/dev/null || true
fi
exit 0
`
