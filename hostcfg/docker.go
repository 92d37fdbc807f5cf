package hostcfg

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/vpcroute/vpcroute/internal/textline"
)

// Docker reads this host's container subnets from a Docker daemon. It keeps
// one API client so that a daemon can later also watch Docker's events
// through it.
type Docker struct {
	cli *client.Client
}

// NewDocker connects to the daemon at host ("unix:///var/run/docker.sock",
// "tcp://..."); an empty host means the client's environment defaults
// (DOCKER_HOST, DOCKER_CERT_PATH, ..., else the local socket). The API
// version is negotiated with the daemon on first use. No request is made yet.
func NewDocker(host string) (*Docker, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		u, err := url.Parse(host)
		if err != nil || (u.Scheme != "unix" && u.Scheme != "tcp") || (u.Scheme == "unix" && u.Path == "") || (u.Scheme == "tcp" && u.Host == "") {
			return nil, fmt.Errorf("docker host %q is invalid; expected unix:///path/to/docker.sock or tcp://host:port", host)
		}
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker host %q: %w", host, err)
	}
	return &Docker{cli: cli}, nil
}

// Host returns the daemon address in use.
func (d *Docker) Host() string { return d.cli.DaemonHost() }

// Close releases the client's connections.
func (d *Docker) Close() error { return d.cli.Close() }

// Subnets returns the IPv4 subnets of the default bridge network (the bip)
// and of each named bridge network, sorted and without duplicates.
func (d *Docker) Subnets(ctx context.Context, networks []string) ([]netip.Prefix, error) {
	if _, err := d.cli.Ping(ctx); err != nil {
		return nil, d.unreachable(err)
	}
	var all []netip.Prefix
	for _, name := range append([]string{DefaultBridge}, networks...) {
		ps, err := d.networkSubnets(ctx, name)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
	}
	return sortedUnique(all), nil
}

// networkSubnets inspects one network by name or full ID.
func (d *Docker) networkSubnets(ctx context.Context, name string) ([]netip.Prefix, error) {
	if name == "" {
		return nil, fmt.Errorf("docker network name is empty; expected the name of a bridge network")
	}
	nw, err := d.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	switch {
	case cerrdefs.IsNotFound(err):
		return nil, fmt.Errorf("docker network %q not found at %s; expected an existing bridge network (see docker network ls)", name, d.Host())
	case client.IsErrConnectionFailed(err):
		return nil, d.unreachable(err)
	case err != nil:
		return nil, fmt.Errorf("inspect docker network %q at %s: %w", name, d.Host(), err)
	}
	// The API also matches ID prefixes; a short name that happens to
	// prefix some network's ID must not silently pick that network.
	if nw.Name != name && nw.ID != name {
		return nil, fmt.Errorf("docker network %q not found at %s (the name only prefixes the ID of network %q); expected a network name or full ID", name, d.Host(), nw.Name)
	}
	return bridgeSubnets(nw)
}

// unreachable words a failed connection as one line naming the daemon and,
// for a unix socket, the real cause: the client only says "Cannot connect".
func (d *Docker) unreachable(err error) error {
	cause := textline.Join(err.Error(), " ")
	if u, perr := url.Parse(d.Host()); perr == nil && u.Scheme == "unix" {
		conn, derr := net.DialTimeout("unix", u.Path, 2*time.Second)
		if derr != nil {
			cause = derr.Error()
		} else {
			_ = conn.Close() // only probing for the cause
		}
	}
	return fmt.Errorf("docker at %s is unreachable: %s", d.Host(), cause)
}

// DiscoverSubnets returns this host's container subnets from the Docker
// daemon at dockerHost (empty: the environment's default): the default
// bridge network's subnet plus those of the named bridge networks.
func DiscoverSubnets(ctx context.Context, dockerHost string, networks []string) ([]netip.Prefix, error) {
	d, err := NewDocker(dockerHost)
	if err != nil {
		return nil, err
	}
	defer func() { _ = d.Close() }() // nothing useful to do with a close error
	return d.Subnets(ctx, networks)
}
