// Package lab builds a small simulated cloud VPC on one machine and drives
// vpcroute against it with real packets.
//
// The lab is made of network namespaces: one plays the VPC router (a bridge
// "vsw" as the vswitch, the router's address 192.168.1.253, and a kernel
// routing table that stands in for the VPC route table) and one per cloud
// host (192.168.1.196, .197, …), each running its own real dockerd and one
// busybox container. No host is given a bip: each boots like a real one,
// `vpcroute allocate` writing its bip into its daemon.json before its
// dockerd starts (allocate.go).
// vpcroute-sim runs inside the router namespace: it serves the Alibaba VPC,
// ECS and metadata APIs on the router's address, and turns every Available
// route entry into a kernel route there, so an entry "10.1.197.0/24 -> i-bbb"
// really moves packets to host B. With Config.Etcd, a real etcd runs there
// too, on the router's address, as the registry `vpcroute daemon` uses for
// host records and leader election. vpcroute runs inside each host
// namespace: one-shot (Sync) or as a daemon (StartDaemon, Status); hosts
// can join (AddHost) and leave (RemoveHost, TerminateHost) while it runs.
//
// With Config.Provider ProviderAWS the simulator plays EC2 instead: the EC2
// Query API and IMDSv2, one instance with a primary ENI per host, routes to
// those ENIs, the daemons' credentials from the instance role; and the lab
// enforces each ENI's source/destination check on the vswitch, which the
// simulator only keeps as state (see srcdst.go).
//
// Nothing is created in the root network namespace: no addresses, routes,
// iptables rules or sysctls. Every run uses unique names (a prefix, the PID
// and a random suffix) and Close tears everything down: dockerds,
// containers, the simulator, namespaces and temporary directories. A
// detached reaper process does the same if the owning process dies without
// calling Close (panic, test timeout, SIGKILL); every process of the lab,
// etcd and the daemons included, lives in one of its namespaces and dies
// with the sweep.
package lab
