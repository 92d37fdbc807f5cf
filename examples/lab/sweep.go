package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// sweepScript removes everything a run left behind, whatever state it is in:
// it kills every process living in one of the run's network namespaces (the
// lab's named ones and the container namespaces dockerd keeps under the
// run's exec-roots), unmounts what dockerd mounted below the run directory,
// deletes the namespaces and the directory. It is the single teardown path,
// used by Close after the graceful steps and by the reaper when the owning
// process died. $1 is the run id, $2 the run directory.
//
// With a third argument, a host's short name ("h3"), the sweep is scoped to
// that one host: its namespace "<id>-h3", the container namespaces below
// "<dir>/h3", the mounts below it and that directory. RemoveHost uses it.
//
// Safety: the root namespace and the script's own namespace are never
// targets, the directory must end in the run id, and a host name must be
// "h" and digits.
const sweepScript = `
id=$1 dir=$2 host=$3
case "$id" in ''|*/*) echo "sweep: bad run id '$id'" >&2; exit 2;; esac
case "$dir" in /*/"$id") ;; *) echo "sweep: bad run dir '$dir'" >&2; exit 2;; esac
if [ -n "$host" ]; then
	case "$host" in h[0-9]|h[0-9][0-9]) ;; *) echo "sweep: bad host '$host'" >&2; exit 2;; esac
	scope=$dir/$host
	set -- /var/run/netns/"$id-$host" "$scope"/exec/netns/*
else
	scope=$dir
	set -- /var/run/netns/"$id"-* "$dir"/*/exec/netns/*
fi
root=$(readlink /proc/1/ns/net) self=$(readlink /proc/$$/ns/net)
targets=""
for f in "$@"; do
	[ -e "$f" ] || continue
	n="net:[$(stat -L -c %i "$f" 2>/dev/null)]"
	[ "$n" = "$root" ] || [ "$n" = "$self" ] || [ "$n" = "net:[]" ] && continue
	targets="$targets $n"
done
if [ -n "$targets" ]; then
	round=0
	while [ $round -lt 20 ]; do
		found=0
		for p in /proc/[0-9]*; do
			n=$(readlink "$p/ns/net" 2>/dev/null) || continue
			case " $targets " in *" $n "*) kill -9 "${p#/proc/}" 2>/dev/null && found=1;; esac
		done
		[ $found -eq 0 ] && break
		round=$((round + 1))
		sleep 0.2
	done
fi
awk -v d="$scope" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
while read -r m; do umount -l "$m" 2>/dev/null; done
for f in "$@"; do
	case "$f" in /var/run/netns/*) ;; *) continue;; esac
	[ -e "$f" ] || continue
	ip netns del "${f##*/}" || echo "sweep: cannot delete netns ${f##*/}" >&2
done
rm -rf "$scope" || echo "sweep: cannot remove $scope" >&2
[ ! -e "$scope" ]
`

// reaperScript waits on its stdin, a pipe whose write end only the owning
// process holds. "done" means the owner tore the lab down itself; EOF means
// the owner died (panic, test timeout, SIGKILL), so sweep.
const reaperScript = `
sweep() {` + sweepScript + `
}
read -r x
[ "$x" = done ] && exit 0
sweep "$@"
`

// reaper is the detached guard process of one run.
type reaper struct {
	cmd *exec.Cmd
	w   io.WriteCloser
}

// startReaper launches the guard in its own session so that Ctrl-C on the
// terminal, which reaches the whole process group, does not kill it.
func startReaper(id, dir string) (*reaper, error) {
	cmd := exec.Command("sh", "-c", reaperScript, "vpcroute-lab-reaper", id, dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("reaper stdin: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start reaper: %w", err)
	}
	return &reaper{cmd: cmd, w: w}, nil
}

// dismiss tells the reaper the owner cleaned up and waits for it to exit.
func (r *reaper) dismiss() error {
	_, werr := io.WriteString(r.w, "done\n")
	cerr := r.w.Close()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if werr != nil || cerr != nil {
			return fmt.Errorf("dismiss reaper: write %v, close %v", werr, cerr)
		}
		if err != nil {
			return fmt.Errorf("reaper exited: %w", err)
		}
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("reaper pid %d did not exit within 10s", r.cmd.Process.Pid)
	}
}

// sweep runs the sweep script now, synchronously.
func sweep(ctx context.Context, id, dir string) error {
	_, err := run(ctx, cmdSpec{
		name:    "sh",
		args:    []string{"-c", sweepScript, "vpcroute-lab-sweep", id, dir},
		timeout: 60 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("sweep run %s: %w", id, err)
	}
	return nil
}

// sweepHost runs the sweep scoped to one host of run id: its namespace,
// the processes in it and in its containers, its mounts and its directory
// dir/host.
func sweepHost(ctx context.Context, id, dir, host string) error {
	_, err := run(ctx, cmdSpec{
		name:    "sh",
		args:    []string{"-c", sweepScript, "vpcroute-lab-sweep", id, dir, host},
		timeout: 60 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("sweep host %s of run %s: %w", host, id, err)
	}
	return nil
}

// Leftovers lists what of run id still exists: its network namespaces, its
// directory below workDir and processes whose command line names that
// directory (dockerd, containerd, shims, the simulator). Tests use it to
// prove teardown is complete.
func Leftovers(workDir, id string) []string {
	var left []string
	dir := filepath.Join(workDir, id)
	if procs, err := filepath.Glob("/proc/[0-9]*/cmdline"); err == nil {
		for _, p := range procs {
			b, err := os.ReadFile(p)
			if err != nil || !strings.Contains(string(b), dir) {
				continue
			}
			left = append(left, fmt.Sprintf("process %s: %s", filepath.Base(filepath.Dir(p)), strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")))
		}
	}
	if ents, err := os.ReadDir("/var/run/netns"); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), id+"-") {
				left = append(left, "netns "+e.Name())
			}
		}
	}
	if _, err := os.Stat(dir); err == nil {
		left = append(left, "dir "+dir)
	}
	return left
}
