// Package sim is a local simulator of the Alibaba Cloud APIs vpcroute uses:
// the VPC (2016-04-28) and ECS (2014-05-26) RPC APIs, the ECS metadata
// service and a /sim/v1 admin API, all served by one http.Handler. The real
// github.com/aliyun/alibaba-cloud-sdk-go talks to it unmodified: set a
// request's Domain to "127.0.0.1:PORT" and its Scheme to "http".
//
// # Use
//
// In-process (tests of other packages):
//
//	ts := sim.NewTestServer(t, sim.DefaultTopology(), sim.WithPendingDelay(0))
//	req := vpc.CreateDescribeRouteEntryListRequest()
//	req.Domain, req.Scheme = ts.Domain, "http"
//
// As a process: cmd/vpcroute-sim (--listen 127.0.0.1:0 prints "listening on
// 127.0.0.1:PORT" as its first stdout line).
//
// # RPC API
//
// Calls are POST (GET works too) with parameters in the query string and/or
// a form body, dispatched on Action: DescribeVpcs, DescribeVSwitches,
// DescribeRouteTableList, DescribeRouteEntryList, CreateRouteEntry,
// CreateRouteEntries, DeleteRouteEntry, DeleteRouteEntries,
// ModifyRouteEntry, DescribeInstances. Every call must carry a known
// AccessKeyId (else 404 InvalidAccessKeyId.NotFound), the security token of
// STS keys, a valid HMAC-SHA1 Signature computed as the SDK does (unless
// behaviour.signature is "ignore"; else 400 SignatureDoesNotMatch) and the
// topology's RegionId. Errors are JSON {"RequestId","HostId","Code",
// "Message","Recommend"}, all strings, with HTTP status 4xx/5xx.
//
// Rules and the choices behind them:
//
//   - Route changes are asynchronous. A created entry is Pending, a modified
//     one Modifying, a deleted one Deleting, each for behaviour.pendingDelay
//     (default 2s); then it is Available, or gone. Deletion goes through
//     Deleting because the real API lists deleting entries until they are
//     removed, and so keeps the VPC busy meanwhile.
//   - Per-VPC serialization: any change while an entry of the same VPC is
//     not Available fails with HTTP 400 behaviour.conflictCode
//     (IncorrectRouteEntryStatus by default; TaskConflict, OperationConflict,
//     or "alternate" to cycle). A CreateRouteEntries/DeleteRouteEntries call
//     is one change: it is refused whole, and its own entries never conflict
//     with each other.
//   - Quota: behaviour.quota custom entries per table (default 200), else
//     400 QuotaExceeded; the message names the table, the count and the
//     quota. System entries do not count.
//   - Destination: an address without a mask is a /32; anything but an IPv4
//     network address is 400 InvalidDestinationCidrBlock.Malformed. Equal
//     to or inside a vswitch CIDR is 400 InvalidCIDRBlock.Conflict (the
//     vendor documents the rule but not the code; a destination containing a
//     vswitch CIDR is allowed, as documented). Already in the table is 400
//     InvalidCIDRBlock.Duplicate, the message naming the holder.
//   - Next hop: types are checked against the documented list; an Instance
//     next hop must be an instance of the table's VPC, else 404
//     InvalidInstanceId.NotFound. ECMP (NextHopList) is refused.
//   - Delete of a missing entry is 404 InvalidRouteEntry.NotFound; changing
//     a System entry is 400 OperationDenied.SystemRouteEntry (sim's code).
//     ModifyRouteEntry changes RouteEntryName/Description only.
//   - CreateRouteEntry honours ClientToken: a repeated token answers the
//     first call's RouteEntryId without a change.
//   - DescribeRouteEntryList: RouteTableId required; MaxResult 1-100
//     (default 50, else 400 InvalidParameter); NextToken paging. Filters:
//     DestinationCidrBlock, DestCidrBlockList.N, RouteEntryType, NextHopId,
//     NextHopType, RouteEntryId, RouteEntryName. Every table holds System
//     entries for its VPC's vswitch CIDRs (next hop type "local") and for
//     100.64.0.0/10 (type "service").
//   - DescribeInstances filters on InstanceIds and PrivateIpAddresses (JSON
//     array strings), VpcId, VSwitchId, Status, InstanceName, ZoneId. A
//     removed (terminated) instance is simply absent.
//   - Throttling: token buckets for reads (Describe*) and writes, set by
//     behaviour.throttle; an empty bucket answers 400 Throttling.User.
//   - Latency: behaviour.latency is added to every RPC call.
//   - Faults: rules {action, code, message, httpStatus, count, probability,
//     close, delayMillis} fire in order after authentication and throttling;
//     close drops the connection without an answer.
//
// # Metadata service
//
// GET /latest/meta-data/{instance-id,region-id,zone-id,vpc-id,vswitch-id,
// private-ipv4,mac,hostname,vpc-cidr-block,vswitch-cidr-block} answers for
// the instance whose private IP is the request's source address (the lab,
// where host namespaces reach the simulator on a routed address), and
// GET /sim/v1/instances/<id>/latest/meta-data/... answers for <id> (loopback
// use: give a client the base URL http://127.0.0.1:PORT/sim/v1/instances/<id>).
// Unknown callers get 404. Also served: network/interfaces/macs/<mac>/...,
// ram/security-credentials/ (the instance's ramRole, 404 without one),
// ram/security-credentials/<role> (the JSON the SDK's ECS RAM role
// providers parse: AccessKeyId, AccessKeySecret, SecurityToken, Expiration,
// Code "Success", LastUpdated; keys are minted per instance, accepted by the
// RPC API with their token until they expire after behaviour.stsLifetime,
// and rotated after half of it), and PUT /latest/api/token (IMDSv2 tokens
// are issued but not required).
//
// # Admin API (/sim/v1)
//
//	GET    /sim/v1/healthz                  {"status":"ok"}
//	GET    /sim/v1/stats                    {"actions":{ACTION:{"ok":N,CODE:N}},"reads":N,"writes":N,"total":N}
//	POST   /sim/v1/stats/reset              zero the counters
//	GET    /sim/v1/routes                   {"region":..,"tables":[{id,vpcId,type,vswitches,entries:[{id,tableId,destination,type,status,nextHopType,nextHopId,name,description,hold}]}]}
//	POST   /sim/v1/routes                   put an entry behind the API's back (PutRouteRequest JSON:
//	                                        table, destination, nextHopType, nextHopId, name, description, status, hold)
//	DELETE /sim/v1/routes?table=T&destination=D   remove an entry at once
//	POST   /sim/v1/settle                   end every transition in flight now
//	GET    /sim/v1/instances                the instances
//	POST   /sim/v1/instances                add or replace an instance (InstanceSpec JSON: id, privateIp, vswitch, ramRole, status, mac, name)
//	DELETE /sim/v1/instances/<id>[?deleteRoutes=true]   terminate an instance (its entries stay unless deleteRoutes)
//	GET    /sim/v1/faults                   the active fault rules
//	POST   /sim/v1/faults                   add one rule or an array of rules (FaultRule JSON)
//	DELETE /sim/v1/faults                   remove every rule
//	GET    /sim/v1/behaviour                the behaviour, defaults filled in, durations as strings
//	POST   /sim/v1/behaviour                patch it: only the fields given change ({"pendingDelay":"100ms"})
//	GET    /sim/v1/dataplane                {"enabled","netns","routes":[{destination,gateway}],"lastError"}
//	GET|PUT /sim/v1/instances/<id>/latest/...   the metadata service for <id>
//
// Admin errors are {"error": "..."} with 400 (bad input) or 404 (not found).
//
// # Data plane
//
// With WithDataplane(netns) the simulator keeps, in that network namespace's
// main table, a kernel route "DEST via <instance private IP> proto 0x56" for
// every custom Instance entry that is not Pending and whose instance exists.
// It adds and deletes only routes with protocol RouteProtocol, never
// replaces a foreign route, and removes its routes on Close.
package sim
