// Package sim is a local simulator of the cloud APIs vpcroute uses. One
// world is one cloud (Topology.Provider):
//
//   - aliyun (default): the Alibaba VPC (2016-04-28) and ECS (2014-05-26)
//     RPC APIs and the ECS metadata service. The real
//     github.com/aliyun/alibaba-cloud-sdk-go talks to it unmodified: set a
//     request's Domain to "127.0.0.1:PORT" and its Scheme to "http".
//   - aws: the EC2 Query API (2016-11-15) and IMDSv2. The real
//     github.com/aws/aws-sdk-go-v2 talks to it unmodified: BaseEndpoint
//     "http://127.0.0.1:PORT", the topology's region and static credentials
//     (see "EC2 Query API" below).
//
// Both serve the same /sim/v1 admin API and data plane, all from one
// http.Handler. What differs is one dialect per cloud (dialect.go,
// aliyun_dialect.go, ec2_dialect.go), picked once from Topology.Provider.
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
// 127.0.0.1:PORT" as its first stdout line; --topology-default aws serves
// DefaultAWSTopology).
//
// On AWS (tests of other packages; never let a client fall back to the
// SDK's default endpoints or IMDS):
//
//	ts := sim.NewTestServer(t, sim.DefaultAWSTopology())
//	c := ec2.NewFromConfig(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(ts.URL),
//		Credentials: credentials.NewStaticCredentialsProvider("AKIASIMULATOR0000001", "sim-aws-secret", ""),
//		HTTPClient:  sim.LoopbackHTTPClient()})
//	md := imds.New(imds.Options{Endpoint: ts.MetadataEndpoint("i-0aaaaaaaaaaaaaaaa"),
//		ClientEnableState: imds.ClientEnabled, HTTPClient: sim.LoopbackHTTPClient()})
//
// LoopbackHTTPClient dials only loopback and sends request bodies from
// memory, which avoids an aws-sdk-go-v2/net/http race that breaks large
// answers from a fast local server ("use of closed network connection").
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
//   - Quota: behaviour.quota custom entries per table (default 200, the
//     documented default), else 400 QuotaExceeded. System entries do not
//     count. The reference documents the code, not the message; the
//     simulator's names the table, the count and then the quota ("holds 4
//     custom entries and its quota is 3"), so a client must not take the
//     first number for the quota.
//   - Destination: an address without a mask is a /32; anything but an IPv4
//     network address is 400 InvalidDestinationCidrBlock.Malformed. Equal
//     to or inside a vswitch CIDR is 400 InvalidCidrBlock.Overlapped
//     "Specified CIDR block overlapped with other subnets.": the reference
//     documents the rule for CreateRouteEntry(ies) but no code for it; this
//     is the code CreateVSwitch documents for the same overlap seen from the
//     vswitch's side. A destination containing a vswitch CIDR is allowed,
//     as documented. Already in the table is 400 InvalidCIDRBlock.Duplicate,
//     the message naming the holder.
//   - Next hop: types are checked against the documented list; an Instance
//     next hop must be an instance of the table's VPC, else 404
//     InvalidInstanceId.NotFound. ECMP (NextHopList) is refused.
//   - Delete of a missing entry is 400 InvalidRouteEntry.NotFound; changing
//     a System entry is 400 OperationDenied "Specified operation is denied
//     as route entry type is system." The VPC reference lists no error
//     codes for either; both are as the reference of DeleteRouteEntry of
//     ECS 2014-05-26, the API the VPC one replaced, documents them.
//     ModifyRouteEntry changes RouteEntryName/Description only; a new next
//     hop (OperationUnsupported.ModifyNextHop) and ECMP next hops
//     (OperationUnsupported.NextHopList) are refused with the simulator's
//     own codes: the real API serves both, so no documented code applies.
//   - Parameters: the route-entry actions, DescribeRouteEntryList,
//     DescribeVpcs, DescribeVSwitches, DescribeRouteTableList and ECS
//     DescribeInstances take the parameters of the API reference only
//     (vpc_params.go), else 400
//     InvalidParameter naming the parameter. The reference does not say
//     what the real API does with an unknown one; refusing it keeps a
//     misspelt field from passing here and being dropped there. So the
//     SDK's RouteEntries.N.Describption (a misspelling alibaba-cloud-sdk-go
//     keeps beside Description, which the reference lists alone) and
//     CreateRouteEntry's PrivateIpAddress are refused; so is DryRun=true,
//     not simulated. RouteEntries.N.IpVersion takes the documented 4 (6 is
//     refused: no IPv6). More than 50 RouteEntries is 400
//     InvalidParameter: the limit is documented, its code is not.
//   - CreateRouteEntry honours ClientToken: a repeated token answers the
//     first call's RouteEntryId without a change.
//   - DescribeRouteEntryList: RouteTableId required; MaxResult 1-100
//     (default 10, as documented; else 400 InvalidParameter); NextToken
//     paging. Filters:
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
// In an AWS world the same endpoints apply, with these differences:
// /sim/v1/routes entries carry EC2 states (active, blackhole), origin
// (CreateRouteTable for the local routes, CreateRoute), nextHopType
// NetworkInterface, Instance, Gateway (internet gateways and gateway
// endpoints), NatGateway, VpcPeering, TransitGateway, ... or "local", and for
// ENI and instance targets networkInterfaceId and instanceId as
// DescribeRouteTables shows them; a prefix list route (no destination CIDR)
// has destination and destinationPrefixListId both set to its pl- ID. Tables
// carry their tags. POST /sim/v1/routes takes such a destination, an AWS
// nextHopType and status active or blackhole (not for ENI or instance
// targets, whose state follows the target; a missing target makes a
// blackhole); DELETE /sim/v1/routes takes destination=pl-... too. Instances
// (InstanceSpec) show subnet, iamRole, eni, sourceDestCheck, instanceType,
// tags and networkInterfaces (secondary ENIs); POST /sim/v1/instances
// creates their ENIs. POST /sim/v1/settle does nothing (EC2 is synchronous).
//
//	POST   /sim/v1/instances/<id>           {"state": S}: AWS pending, running, stopping, stopped, shutting-down,
//	                                        terminated; Alibaba Running, Stopped, terminated (= DELETE)
//	DELETE /sim/v1/instances/<id>           on AWS: terminate (listed as terminated; again: forget it)
//
// # EC2 Query API (provider aws)
//
// POST / with a form body (Action=...&Version=2016-11-15&...), answered with
// XML in the namespace http://ec2.amazonaws.com/doc/2016-11-15/, element for
// element what aws-sdk-go-v2's service/ec2 deserializers read. Errors are
// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
// with EC2's status: 503 RequestLimitExceeded (the SDK retries it as a
// throttle), 401 AuthFailure, 403 UnauthorizedOperation, 412
// DryRunOperation (DryRun=true after authentication), 500 InternalError,
// 400 for the rest. Actions: DescribeVpcs (cidrBlockAssociationSet),
// DescribeSubnets, DescribeRouteTables, DescribeInstances,
// DescribeNetworkInterfaces, DescribeNetworkInterfaceAttribute (Attribute
// sourceDestCheck, description, attachment, groupSet,
// associatePublicIpAddress), CreateRoute, ReplaceRoute, DeleteRoute,
// ModifyNetworkInterfaceAttribute (SourceDestCheck.Value,
// Description.Value), CreateTags (eni-, rtb-, vpc-, subnet-, i-).
//
//   - Authentication: AWS Signature Version 4. The Authorization header's
//     key must be a topology credential or a minted instance role key (whose
//     X-Amz-Security-Token must match; a long-term key must carry none), the
//     scope the world's region and service ec2, X-Amz-Date within 15 minutes
//     (else 400 RequestExpired); the signature is recomputed with the SDK's
//     own v4 signer over the headers the caller signed. Anything else is 401
//     AuthFailure. behaviour.signature "ignore" skips only the signature.
//   - Describe* take their ID lists (VpcId.N, RouteTableId.N, ...; an
//     unknown ID is EC2's <Kind>ID.NotFound) and Filter.N.Name/Value.M with
//     EC2's * and ? wildcards; an unknown filter name is
//     InvalidParameterValue. Filters: vpc-id, route-table-id,
//     association.main, association.subnet-id, route.state, route.origin,
//     route.destination-cidr-block, route.gateway-id, route.instance-id, ...
//     (route tables); instance-id, instance-state-name, vpc-id,
//     private-ip-address, ... (instances); network-interface-id,
//     attachment.instance-id, attachment.device-index, source-dest-check,
//     ... (ENIs); tag:<key>, tag-key and tag-value everywhere. MaxResults
//     (5-100 for route tables, 5-1000 otherwise; all items without it) and
//     NextToken page; DescribeInstances refuses InstanceId.N with
//     MaxResults (InvalidParameterCombination).
//   - Routes change synchronously: a created or replaced route is in effect
//     when the call returns; nothing is ever Pending and EC2 has no busy-VPC
//     conflict. Every table holds a local route (origin CreateRouteTable)
//     per VPC CIDR.
//   - CreateRoute: exactly one destination (DestinationCidrBlock, an IPv4
//     network address, or DestinationPrefixListId; IPv6 is not simulated)
//     and exactly one target (GatewayId, NatGatewayId, InstanceId,
//     NetworkInterfaceId, VpcPeeringConnectionId, TransitGatewayId, ...;
//     none is MissingParameter, two InvalidParameterCombination). A
//     destination already in the table, whatever its target, is
//     RouteAlreadyExists; one equal to or inside a VPC CIDR is
//     InvalidParameterValue (no middlebox routing). NetworkInterfaceId must
//     exist in the table's VPC (InvalidNetworkInterfaceID.NotFound);
//     InstanceId must exist and not be terminated
//     (InvalidInstanceID.NotFound) and have one ENI: more is
//     InvalidInstanceID "There are multiple interfaces attached to instance
//     ...". The route then targets that ENI and shows both IDs. Gateway and
//     other targets are taken on trust. behaviour.quota (default 50) routes
//     per table, local routes not counted, else RouteLimitExceeded with
//     EC2's documented text, "You've reached the limit on the number of
//     routes that you can add to a route table.", which names neither the
//     table nor the limit.
//   - ReplaceRoute changes the target in one step (no moment without a
//     route); a missing route is InvalidParameterValue "There is no route
//     defined for '...' in the route table. Use CreateRoute instead.", the
//     local route InvalidParameterValue. It is not held to the limit.
//   - DeleteRoute: a missing route is InvalidRoute.NotFound "no route with
//     destination-cidr-block ... in route table ..."; a local route is
//     InvalidParameterValue.
//   - Route state: an ENI or instance route is active while its ENI exists
//     and is attached to a pending or running instance, blackhole otherwise
//     (instance stopped, stopping, shutting-down or terminated, ENI detached
//     or deleted). A blackhole route keeps its networkInterfaceId and, once
//     the ENI is gone, the instanceId it had. Other routes are active unless
//     put as blackhole.
//   - Instances: terminating one (admin API) deletes its ENIs with
//     DeleteOnTermination (the primary always; secondary ones by their
//     spec, default true) and detaches the others; DescribeInstances lists
//     it as terminated (code 48) without addresses or interfaces.
//   - Throttling: behaviour.throttle.reads is the non-mutating (Describe*)
//     bucket, writes the mutating one (Create/Replace/DeleteRoute,
//     ModifyNetworkInterfaceAttribute, CreateTags); an empty bucket answers
//     503 RequestLimitExceeded. The default AWS topology sets EC2's buckets
//     (EC2DescribeBucket 100 refilling 20/s, EC2MutatingBucket 50 refilling
//     5/s); a topology without a throttle section has no limit.
//   - Latency and fault rules work as for Alibaba, with EC2 action names;
//     a rule's default status is the one EC2 uses for its code.
//
// # IMDSv2 (provider aws)
//
// As a hardened fleet runs it (HttpTokens=required, no IMDSv1): PUT
// /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds of 1-21600
// (else 400; a GET there is 405, X-Forwarded-For 403) and answers a token,
// echoing that header; every GET needs a live token issued to the same
// instance in X-aws-ec2-metadata-token, else 401. Paths under
// /latest/meta-data/: instance-id, instance-type, ami-id, local-ipv4,
// hostname, local-hostname, mac (the primary ENI's), placement/{region,
// availability-zone,availability-zone-id}, network/interfaces/macs/ (one
// "<mac>/" per attached ENI, by device index), network/interfaces/macs/
// <mac>/{device-number,interface-id,local-hostname,local-ipv4s,mac,
// owner-id,subnet-id,subnet-ipv4-cidr-block,vpc-id,vpc-ipv4-cidr-block,
// vpc-ipv4-cidr-blocks}, iam/info, iam/security-credentials/ (the role) and
// iam/security-credentials/<role> (Code, LastUpdated, Type AWS-HMAC,
// AccessKeyId ASIA..., SecretAccessKey, Token, Expiration: minted per
// instance, valid for the EC2 API with their token until they expire after
// behaviour.stsLifetime); /latest/dynamic/instance-identity/document
// (accountId, region, instanceId, privateIp, availabilityZone, ...).
//
// The caller is chosen as for Alibaba: by source address on /latest/, or
// by the /sim/v1/instances/<id> prefix. aws-sdk-go-v2's imds client,
// however, sets the request path itself and drops any path of its
// Endpoint, so the prefix cannot work for it (nor can a query parameter).
// For it the simulator serves one instance's metadata on a listener of its
// own: Server.MetadataHandler, TestServer.MetadataEndpoint(id) in tests,
// vpcroute-sim --metadata-listen ID=127.0.0.1:0 for the process.
//
// # Data plane
//
// With WithDataplane(netns) the simulator keeps, in that network namespace's
// main table, a kernel route "DEST via <instance private IP> proto 0x56" for
// every custom Instance entry that is not Pending and whose instance exists
// (on AWS: "DEST via <ENI private IP>" for every active route to an ENI or
// instance).
// It adds and deletes only routes with protocol RouteProtocol, never
// replaces a foreign route, and removes its routes on Close.
package sim
