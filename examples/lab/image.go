package lab

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"time"
)

// ImageName is the container image every lab dockerd imports; no registry
// is reachable from the lab.
const ImageName = "vpcroute-lab/busybox:1"

// busyboxPath is where Debian's busybox-static installs its binary.
const busyboxPath = "/bin/busybox"

// imageApplets are the busybox applets the lab calls inside containers.
var imageApplets = []string{"sh", "ping", "ip", "sleep", "nc", "httpd", "wget", "kill", "cat", "timeout"}

// peerCGI answers with the address the request came from, as the receiving
// container's kernel saw it. It is the source-IP check's witness: the
// receiver itself reports whether it saw the sender container or a host.
const peerCGI = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' \"$REMOTE_ADDR\"\n"

// containerCmd starts the peer reporter (httpd daemonizes) and then waits.
// The shell is PID 1 and traps TERM, so `docker stop` and a dockerd restart
// take milliseconds instead of the 10 s kill timeout a bare sleep costs.
var containerCmd = []string{"sh", "-c", fmt.Sprintf(
	"httpd -p %d -h /www || exit 1; trap 'exit 0' TERM INT; sleep 2147483647 & wait", ContainerPort)}

// busyboxImage builds the root filesystem tar for `docker import`: the
// static busybox, applet links and the CGI script.
func busyboxImage() ([]byte, error) {
	bin, err := os.ReadFile(busyboxPath)
	if err != nil {
		return nil, fmt.Errorf("read %s (install Debian package busybox-static): %w", busyboxPath, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	add := func(h *tar.Header, body []byte) error {
		h.ModTime = now
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("image tar header %s: %w", h.Name, err)
		}
		if len(body) > 0 {
			if _, err := tw.Write(body); err != nil {
				return fmt.Errorf("image tar body %s: %w", h.Name, err)
			}
		}
		return nil
	}
	for _, d := range []string{"bin/", "tmp/", "www/", "www/cgi-bin/"} {
		if err := add(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755}, nil); err != nil {
			return nil, err
		}
	}
	if err := add(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin))}, bin); err != nil {
		return nil, err
	}
	for _, a := range imageApplets {
		if err := add(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777}, nil); err != nil {
			return nil, err
		}
	}
	if err := add(&tar.Header{Typeflag: tar.TypeReg, Name: "www/cgi-bin/peer", Mode: 0o755, Size: int64(len(peerCGI))}, []byte(peerCGI)); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image tar: %w", err)
	}
	return buf.Bytes(), nil
}
