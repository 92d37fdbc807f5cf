// Package hostcfg is vpcroute's per-host part: it finds this host's
// container subnets in Docker and makes the host forward cluster traffic to
// them without Docker's NAT getting in the way. It works on the network
// namespace the process runs in.
//
// # What Apply does
//
//   - net.ipv4.ip_forward=1 (under Options.ProcSys).
//   - filter: chain VPCROUTE-FORWARD, jumped from the top of DOCKER-USER
//     (Docker's hook, which it never flushes). For each local subnet S it
//     first RETURNs traffic from S (container egress is Docker's business;
//     accepting it here would bypass Docker's isolation between two local
//     bridge networks), then ACCEPTs cluster CIDR -> S and VPC CIDR -> S
//     (hosts reach remote containers from their VPC address). Replies are
//     accepted by Docker's own ESTABLISHED,RELATED rule. When Docker has not
//     created DOCKER-USER and its FORWARD jump, vpcroute creates both at the
//     top of FORWARD and notes it in the state directory; once Docker starts
//     and adds its own jump, vpcroute drops its jump and the note, and the
//     chain is Docker's.
//   - nat: chain VPCROUTE-POSTROUTING, jumped from position 1 of
//     POSTROUTING, with S -> cluster CIDR ACCEPT for each local subnet, so
//     Docker's MASQUERADE never rewrites cross-host container traffic. ACCEPT
//     and not RETURN: a RETURN in a custom chain only returns to POSTROUTING
//     and MASQUERADE still fires (verified on the lab). When Docker inserts a
//     new network's MASQUERADE above the jump, the next Apply moves the jump
//     back to the top without ever leaving POSTROUTING without it.
//     Connection tracking is not flushed: flows that predate the exemption
//     keep their NAT until they end.
//   - Options.ForwardPolicyAccept sets the FORWARD policy to ACCEPT, the
//     seed document's fix, off by default because it opens forwarding for
//     everything while the rules above are narrow. The previous policy is
//     written to <StateDir>/forward-policy first; Cleanup, or an Apply
//     without the option, restores it, unless someone else changed the
//     policy since (then only the record goes).
//
// # Ownership
//
// Every rule vpcroute writes carries the comment Tag(cluster),
// "vpcroute:<cluster>". Only rules with that tag are ever deleted, and
// deletes name the rule (iptables -D CHAIN RULE), never a position, so a rule
// that Docker inserts at the same moment cannot be hit. Rules of other
// clusters and untagged rules, even inside vpcroute's chains, are left alone;
// a vpcroute chain that holds someone else's rules is kept by Cleanup, with
// its jump.
//
// # Idempotence and verification
//
// Apply and Cleanup read the chains, compute a plan (pure functions, see
// planApply, planCleanup, planRules), carry it out, and read again until a
// plan comes out empty. A second Apply with the same options therefore
// changes nothing, and iptables-save prints the same bytes. Cleanup leaves
// ip_forward on: Docker needs it as well.
//
// # State
//
// Options.StateDir (default /run/vpcroute, which like iptables rules does
// not survive a reboot) holds the two facts iptables cannot tell later:
// forward-policy (the policy to restore) and docker-user-created. A lock
// file there serializes concurrent vpcroute processes.
package hostcfg
