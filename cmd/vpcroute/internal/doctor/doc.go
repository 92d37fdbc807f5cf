// Package doctor is `vpcroute doctor`: it says why containers on two hosts
// cannot talk, and how to fix it, without changing anything.
//
// Gather reads the facts (Docker inspect, sysctl files, netlink dumps and
// route lookups, iptables -S, the provider's Describe calls, a registry
// list, GET /status); Evaluate turns facts into checks and is pure, so
// every verdict, cause and fix is table-tested from facts written by hand.
//
// # Checks
//
// In report order, with their stable IDs:
//
//	docker.reachable         Docker answers (SKIP with --subnet: Docker is not asked)
//	docker.bip               Docker runs the bip its daemon.json sets (WARN until Docker is
//	                         restarted after vpcroute allocate; --docker-config)
//	subnets.found            the local container subnets are known
//	subnets.vpc-overlap      none overlaps a VPC or vswitch/subnet CIDR
//	subnets.cluster-cidr     all lie inside the cluster CIDR
//	subnets.distinct         none overlaps another host's (registry with
//	                         --etcd-endpoints, else the tables' owned entries)
//	sysctl.ip-forward        net.ipv4.ip_forward = 1
//	sysctl.forwarding        conf.<if>.forwarding = 1 on the uplink (default
//	                         route) and each local subnet's bridge
//	sysctl.rp-filter         strict rp_filter (max of conf.all and the
//	                         uplink's) only WARNs when the route back to a
//	                         remote container leaves by another interface
//	iptables.forward         new connections cluster CIDR -> local subnet,
//	                         followed through FORWARD, DOCKER-USER and
//	                         VPCROUTE-FORWARD, are accepted before any DROP or
//	                         REJECT and before the FORWARD policy DROP
//	iptables.nat             local subnet -> cluster CIDR is exempted before
//	                         any MASQUERADE/SNAT in nat POSTROUTING
//	cloud.api                the provider answers: identity, VPC, tables
//	cloud.source-dest-check  providers implementing cloud.SourceDestChecker (EC2)
//	routes.local             each local subnet -> this host in every managed
//	                         table, owned, Available, not occupied or shadowed
//	routes.peer              the same for --peer's subnets (SKIP without it)
//	routes.quota             entries per table against the provider's limit
//	                         (its cloud.Spec.Limit, --route-quota): WARN at 90 %
//	daemon.status            the daemon at --status-addr answers (SKIP when
//	                         none listens: hosts without a daemon)
//	daemon.leader            a leader is known
//	daemon.registered        this host's record is in the registry
//	daemon.reconcile-age     the last pass ended within 3 × --resync-interval
//	                         of the document's time
//	daemon.reconcile-result  the last pass is ok (degraded WARNs, error FAILs)
//
// One cause is reported once: a subnet refused by subnets.vpc-overlap or
// subnets.cluster-cidr is left out of the checks after them, a subnet
// colliding with another host's is left out of routes.local, and checks
// that depend on a failed one are SKIPped, saying which. With
// --host-config=false vpcroute's chains are not expected, but the walks
// still tell whether another tool's rules let the traffic through.
//
// The chain walks follow jumps only into the chains doctor reads (FORWARD,
// DOCKER-USER, VPCROUTE-FORWARD; POSTROUTING, VPCROUTE-POSTROUTING); rules
// with conditions doctor does not evaluate (protocols, ports, sets) count
// as matching part of the traffic: such a DROP WARNs, it never passes as
// harmless and never FAILs on a guess.
//
// # JSON
//
// `vpcroute doctor -o json` prints Report:
//
//	{"schemaVersion": "vpcroute.doctor/v1",
//	 "cluster": "prod",
//	 "host": {"instance": "i-ccc", "privateIp": "192.168.1.198", "provider": "aliyun"},
//	 "checks": [{"id": "sysctl.ip-forward", "title": "...", "result": "FAIL",
//	             "cause": "...", "fix": "..."}, ...],
//	 "summary": {"pass": 17, "warn": 0, "fail": 1, "skip": 1, "result": "FAIL"}}
//
// result is PASS, WARN, FAIL or SKIP; fix is "" for PASS and SKIP; the
// summary's result is the worst verdict (SKIP counts as PASS). Additive
// changes keep v1.
package doctor
