package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/internal/textline"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// Options say what Gather reads and where from. Gather only reads: Docker
// inspect calls, sysctl files, netlink dumps and route lookups, iptables -S,
// the provider's Describe calls, a registry list and GET /status.
type Options struct {
	Cluster     string
	ClusterCIDR netip.Prefix
	// HostConfig is --host-config (false: vpcroute's chains not expected).
	HostConfig bool
	// RouteQuota overrides the provider's default per-table limit (0: the
	// default).
	RouteQuota int
	// Subnets are the --subnet values; empty means ask Docker at
	// DockerHost for the default bridge and Networks.
	Subnets    []netip.Prefix
	DockerHost string
	// DockerConfig is Docker's daemon.json, whose bip is compared with
	// what Docker runs; empty: not read.
	DockerConfig string
	Networks     []string
	// ProcSys is the sysctl tree (default /proc/sys).
	ProcSys string
	// ProviderSpec is the registry's record of the provider: its name,
	// route limit and access hint, known even when Provider fails.
	ProviderSpec cloud.Spec
	// Provider connects to the cloud; an error becomes cloud.api's cause.
	Provider func(ctx context.Context) (cloud.Provider, error)
	// Registry lists the registered hosts; nil without --etcd-endpoints.
	Registry func(ctx context.Context) ([]reconciler.Host, error)
	// StatusAddr is the local daemon's --status-addr.
	StatusAddr string
	// Resync is the daemons' --resync-interval.
	Resync time.Duration
	// Peer is --peer, nil when not given.
	Peer *Peer
	// Timeout bounds each source (Docker, cloud, registry, daemon) on its
	// own, so one that hangs does not hide the others.
	Timeout time.Duration
}

// Run gathers the facts and evaluates them.
func Run(ctx context.Context, o Options) Report {
	f := Gather(ctx, o)
	host := HostInfo{Instance: f.Cloud.Self.ID, Provider: f.Cloud.Provider}
	if f.Cloud.Self.PrivateIP.IsValid() {
		host.PrivateIP = f.Cloud.Self.PrivateIP.String()
	}
	return NewReport(f.Cluster, host, Evaluate(f))
}

// Gather reads every fact the checks need. It never fails: what cannot be
// read is recorded in the facts' Err fields.
func Gather(ctx context.Context, o Options) Facts {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	f := Facts{Cluster: o.Cluster, ClusterCIDR: o.ClusterCIDR, HostConfig: o.HostConfig, RouteQuota: o.RouteQuota}
	if o.Peer != nil {
		f.Peer = PeerFacts{Given: true, Peer: *o.Peer}
	}
	gatherSubnets(ctx, o, &f)
	gatherCloud(ctx, o, &f)
	gatherOthers(ctx, o, &f)
	f.Host = gatherHost(ctx, o.ProcSys, f.Subnets.Local, returnSources(f))
	f.Daemon = gatherDaemon(ctx, o)
	return f
}

// gatherSubnets asks Docker for the local subnets, or takes --subnet.
func gatherSubnets(ctx context.Context, o Options, f *Facts) {
	if len(o.Subnets) > 0 {
		f.Subnets = SubnetFacts{Local: sortPrefixes(o.Subnets), Source: SourceFlag}
		return
	}
	f.Docker.Asked = true
	f.Subnets.Source = SourceDocker
	d, err := hostcfg.NewDocker(o.DockerHost)
	if err != nil {
		f.Docker.Err = err.Error()
		return
	}
	defer func() { _ = d.Close() }() // read-only client; nothing to flush
	f.Docker.Addr = d.Host()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if f.Docker.APIVersion, err = d.Ping(ctx); err != nil {
		f.Docker.Err = err.Error()
		return
	}
	subnets, err := d.Subnets(ctx, o.Networks)
	if err != nil {
		f.Subnets.Err = err.Error()
		return
	}
	f.Subnets.Local = sortPrefixes(subnets)
	gatherDockerConfig(o, f)
}

// gatherDockerConfig reads the bip Docker's daemon.json sets.
func gatherDockerConfig(o Options, f *Facts) {
	if o.DockerConfig == "" {
		return
	}
	f.DockerConfig.Path = o.DockerConfig
	file, err := hostcfg.LoadDockerConfig(o.DockerConfig)
	if err == nil {
		f.DockerConfig.BIP, _, err = file.Config.BIP()
	}
	if err != nil {
		f.DockerConfig.Err = err.Error()
	}
}

// gatherCloud reads this host's identity, the VPC and the managed tables.
func gatherCloud(ctx context.Context, o Options, f *Facts) {
	f.Cloud.Provider = o.ProviderSpec.Name
	f.Cloud.Limit, f.Cloud.AccessFix = o.ProviderSpec.Limit, o.ProviderSpec.AccessFix
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	p, err := o.Provider(ctx)
	if err != nil {
		f.Cloud.Err = err.Error()
		return
	}
	f.Cloud.Provider = p.Name()
	if f.Cloud.Self, err = p.Self(ctx); err != nil {
		f.Cloud.Err = fmt.Sprintf("identify this host: %v", err)
		return
	}
	if f.Cloud.Network, err = p.Network(ctx); err != nil {
		f.Cloud.Err = fmt.Sprintf("read the VPC: %v", err)
		return
	}
	f.Cloud.Tables = map[string][]cloud.Route{}
	for _, t := range f.Cloud.Network.RouteTables {
		routes, err := p.Routes(ctx, t)
		if err != nil {
			if f.Cloud.TableErrs == nil {
				f.Cloud.TableErrs = map[string]string{}
			}
			f.Cloud.TableErrs[t] = err.Error()
			continue
		}
		f.Cloud.Tables[t] = routes
	}
	if sd, ok := p.(cloud.SourceDestChecker); ok {
		iface, on, err := sd.SourceDestCheck(ctx)
		f.Cloud.SourceDest = &SourceDestFacts{Interface: iface, On: on}
		if err != nil {
			f.Cloud.SourceDest.Err = err.Error()
		}
	}
}

// gatherOthers collects other hosts' claims: from the registry when there
// is one, else (or when it fails) from the tables' owned entries.
func gatherOthers(ctx context.Context, o Options, f *Facts) {
	tablesOK := f.Cloud.Err == "" && len(f.Cloud.TableErrs) == 0
	if o.Registry != nil {
		rctx, cancel := context.WithTimeout(ctx, o.Timeout)
		hosts, err := o.Registry(rctx)
		cancel()
		if err == nil {
			f.Others = OtherHosts{Known: true, Source: OthersRegistry, Claims: registryClaims(hosts, f.Cloud.Self.ID)}
			return
		}
		f.Others.RegistryErr = err.Error()
	}
	if tablesOK {
		f.Others.Known, f.Others.Source = true, OthersTables
		f.Others.Claims = ownedClaims(*f, f.Cloud.Self.Target)
	}
}

// registryClaims turns the registered hosts other than self into claims.
func registryClaims(hosts []reconciler.Host, self string) []Claim {
	var out []Claim
	for _, h := range hosts {
		if h.Instance == self {
			continue
		}
		for _, s := range h.SubnetPrefixes() {
			out = append(out, Claim{Instance: h.Instance, Target: h.Target, Subnet: s})
		}
	}
	return out
}

// returnSources are sample remote container addresses whose return route
// the rp_filter check looks at: one per other host's subnet (at most 8),
// else one address of the cluster CIDR outside the local subnets.
func returnSources(f Facts) []netip.Addr {
	var out []netip.Addr
	for _, c := range f.Others.Claims {
		if a := c.Subnet.Masked().Addr().Next(); !slices.Contains(out, a) && len(out) < 8 {
			out = append(out, a)
		}
	}
	if len(out) > 0 || !f.ClusterCIDR.IsValid() {
		return out
	}
	for a := f.ClusterCIDR.Masked().Addr().Next(); f.ClusterCIDR.Contains(a); {
		local := slices.IndexFunc(f.Subnets.Local, func(s netip.Prefix) bool { return s.Contains(a) })
		if local < 0 {
			return []netip.Addr{a}
		}
		// Jump past that subnet.
		s := f.Subnets.Local[local]
		last := lastAddr(s)
		if !last.IsValid() {
			break
		}
		a = last.Next().Next()
	}
	return nil
}

// lastAddr is the last address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	if !p.Addr().Is4() {
		return netip.Addr{}
	}
	b := p.Masked().Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= (uint32(1) << (32 - p.Bits())) - 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// gatherDaemon reads the local daemon's status; nothing listening at the
// address means no daemon runs there.
func gatherDaemon(ctx context.Context, o Options) DaemonFacts {
	dm := DaemonFacts{Addr: o.StatusAddr, Resync: o.Resync}
	ctx, cancel := context.WithTimeout(ctx, min(o.Timeout, 10*time.Second))
	defer cancel()
	if hostPort := dialAddr(o.StatusAddr); hostPort != "" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", hostPort)
		if err != nil {
			dm.Err = oneLine(err)
			dm.Absent = errors.Is(err, syscall.ECONNREFUSED)
			if !dm.Absent {
				dm.Err = fmt.Sprintf("no answer from %s: %s", hostPort, dm.Err)
			} else {
				dm.Err = "connection refused"
			}
			return dm
		}
		_ = conn.Close() // only probing whether anything listens
	}
	doc, err := status.Fetch(ctx, o.StatusAddr)
	if err != nil {
		dm.Err = oneLine(err)
		return dm
	}
	dm.Doc = &doc
	return dm
}

// dialAddr returns the host:port behind a status address ("" when it
// cannot be told; Fetch then reports the error).
func dialAddr(addr string) string {
	if !strings.Contains(addr, "://") {
		return addr
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return ""
	}
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// oneLine flattens an error message.
func oneLine(err error) string { return textline.Join(err.Error(), " ") }

// sortPrefixes returns a sorted copy without duplicates.
func sortPrefixes(ps []netip.Prefix) []netip.Prefix {
	m := map[netip.Prefix]bool{}
	for _, p := range ps {
		m[p.Masked()] = true
	}
	return keys(m)
}
