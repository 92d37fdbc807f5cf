package doctor

import "encoding/json"

// Result is a check's verdict.
type Result string

// The verdicts, from best to worst; SKIP says the check does not apply
// (its cause says why).
const (
	// Pass: the check holds; the cause says what was seen.
	Pass Result = "PASS"
	// Warn: traffic may still flow, but something is off or about to be.
	Warn Result = "WARN"
	// Fail: this stops container traffic between hosts (or would stop the
	// next host from being routed); the fix says what to do.
	Fail Result = "FAIL"
	// Skip: the check does not apply here or depends on one that failed.
	Skip Result = "SKIP"
)

// Check is one diagnosis: what was checked, the verdict, the one-line cause
// (what was seen, also for PASS) and the exact fix (a command or a config
// change; empty for PASS).
type Check struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Result Result `json:"result"`
	Cause  string `json:"cause"`
	Fix    string `json:"fix"`
}

// Summary counts the checks by verdict. Result is FAIL when any check
// failed, else WARN when any warned, else PASS.
type Summary struct {
	Pass   int    `json:"pass"`
	Warn   int    `json:"warn"`
	Fail   int    `json:"fail"`
	Skip   int    `json:"skip"`
	Result Result `json:"result"`
}

// SchemaVersion names the layout of Report's JSON. Additive changes keep v1.
const SchemaVersion = "vpcroute.doctor/v1"

// HostInfo names the host a report is about, as far as it is known.
type HostInfo struct {
	Instance  string `json:"instance"`
	PrivateIP string `json:"privateIp"`
	Provider  string `json:"provider"`
}

// Report is everything doctor found: `vpcroute doctor -o json` prints it.
type Report struct {
	SchemaVersion string   `json:"schemaVersion"`
	Cluster       string   `json:"cluster"`
	Host          HostInfo `json:"host"`
	Checks        []Check  `json:"checks"`
	Summary       Summary  `json:"summary"`
}

// NewReport wraps checks in a report and counts them.
func NewReport(cluster string, host HostInfo, checks []Check) Report {
	if checks == nil {
		checks = []Check{}
	}
	return Report{SchemaVersion: SchemaVersion, Cluster: cluster, Host: host, Checks: checks, Summary: Summarize(checks)}
}

// Summarize counts checks by verdict.
func Summarize(checks []Check) Summary {
	var s Summary
	for _, c := range checks {
		switch c.Result {
		case Pass:
			s.Pass++
		case Warn:
			s.Warn++
		case Fail:
			s.Fail++
		case Skip:
			s.Skip++
		}
	}
	switch {
	case s.Fail > 0:
		s.Result = Fail
	case s.Warn > 0:
		s.Result = Warn
	default:
		s.Result = Pass
	}
	return s
}

// Failed returns the IDs of the failed checks.
func (r Report) Failed() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Result == Fail {
			out = append(out, c.ID)
		}
	}
	return out
}

// MarshalIndent is the report as `-o json` prints it.
func (r Report) MarshalIndent() ([]byte, error) {
	return json.MarshalIndent(r, "", "  ")
}

// pass, warn, fail and skip build checks; the id and title come from the
// check's definition.
func (d def) pass(cause string) Check { return Check{d.id, d.title, Pass, cause, ""} }
func (d def) warn(cause, fix string) Check {
	return Check{d.id, d.title, Warn, cause, fix}
}
func (d def) fail(cause, fix string) Check {
	return Check{d.id, d.title, Fail, cause, fix}
}
func (d def) skip(cause string) Check { return Check{d.id, d.title, Skip, cause, ""} }

// def is a check's identity.
type def struct{ id, title string }

// The checks, in report order. IDs are stable: scripts may match them.
var (
	defDocker        = def{"docker.reachable", "Docker answers"}
	defDockerBIP     = def{"docker.bip", "Docker runs the bip daemon.json sets"}
	defSubnetsFound  = def{"subnets.found", "local container subnets found"}
	defVPCOverlap    = def{"subnets.vpc-overlap", "local subnets clear of the VPC and its vswitches"}
	defClusterCIDR   = def{"subnets.cluster-cidr", "local subnets inside the cluster CIDR"}
	defDistinct      = def{"subnets.distinct", "local subnets distinct from other hosts'"}
	defIPForward     = def{"sysctl.ip-forward", "IPv4 forwarding on (net.ipv4.ip_forward)"}
	defIfForwarding  = def{"sysctl.forwarding", "forwarding on the uplink and the bridges"}
	defRPFilter      = def{"sysctl.rp-filter", "reverse-path filter lets remote traffic in"}
	defForward       = def{"iptables.forward", "FORWARD lets cluster traffic into local containers"}
	defNAT           = def{"iptables.nat", "container traffic to the cluster exempt from MASQUERADE"}
	defCloud         = def{"cloud.api", "cloud API answers"}
	defSourceDest    = def{"cloud.source-dest-check", "source/destination check off"}
	defRoutesLocal   = def{"routes.local", "routes to this host's subnets"}
	defRoutesPeer    = def{"routes.peer", "routes to the peer's subnets"}
	defRoutesQuota   = def{"routes.quota", "route table entries within the quota"}
	defDaemonStatus  = def{"daemon.status", "daemon answers"}
	defDaemonLeader  = def{"daemon.leader", "daemon: leader known"}
	defDaemonReg     = def{"daemon.registered", "daemon: this host registered"}
	defReconcileAge  = def{"daemon.reconcile-age", "daemon: last reconcile recent"}
	defReconcileDone = def{"daemon.reconcile-result", "daemon: last reconcile successful"}
)
