// Package aws is the AWS EC2 provider: identity from the instance metadata
// service (IMDSv2 only), routes in VPC route tables, host preparation and
// target existence through github.com/aws/aws-sdk-go-v2.
//
// # Identity and credentials
//
// New reads instance-id, placement/region, local-ipv4 and, through the
// primary interface's MAC, its VPC and ENI from IMDSv2; each can be given
// instead (Options). This host's routes target the primary ENI
// (cloud.TargetNetworkInterface): a route to an instance ID fails for an
// instance with several interfaces. Credentials come from the SDK's default
// chain; its last link, the instance role, is read through the same
// configured metadata endpoint. AWS_EC2_METADATA_DISABLED=true keeps every
// request off the metadata service.
//
// # Ownership
//
// EC2 routes carry no name or tag. A route is the cluster's when it was
// made by CreateRoute, its destination lies inside the cluster CIDR, and
// its target ENI is tagged vpcroute:cluster=<cluster> (PrepareHost tags
// each host's ENI), or when such a route has turned blackhole (its ENI was
// deleted with its instance). Everything else is listed, never changed.
//
// # Writes and pacing
//
// EC2 applies route changes at once; a creation is confirmed with one
// listing. RouteAlreadyExists is success when the route already points at
// the same ENI, InvalidRoute.NotFound on delete is success, a route owned
// by the cluster but pointing at the wrong ENI is moved with ReplaceRoute
// (cloud.Replacer), falling back to CreateRoute when the route is gone
// meanwhile (EC2 answers InvalidParameterValue "There is no route defined
// for ..."), and RouteLimitExceeded is a *cloud.QuotaError with the
// table's count. Every mutating call first takes a token of a client-side
// bucket sized like EC2's (50, refilling 5/s); RequestLimitExceeded, 5xx
// answers and transport failures are retried with jittered exponential
// backoff. The SDK's own retryer is off so that each attempt is paced,
// observed (cloud.CallObserver) and logged here.
//
// # IAM policy
//
// deploy/aws-iam-policy.json grants exactly the calls of ec2API
// (policy_test.go checks it): the six Describe actions on "*" (they take no
// resource-level permissions); CreateRoute, ReplaceRoute and DeleteRoute on
// route tables, and the first two also on network interfaces tagged
// vpcroute:cluster (EC2 authorizes a route's target ENI as well); CreateTags
// on network interfaces, only to add vpcroute:cluster where it is missing;
// ModifyNetworkInterfaceAttribute on interfaces tagged vpcroute:cluster
// (PrepareHost tags before it changes the source/destination check, and
// waits a few seconds for IAM to see a tag it has just written). Variants,
// each narrowing the route-table statement "WriteRoutesInRouteTables":
//
//   - with --route-table-tag, allow only the cluster's tables:
//     "Condition": {"StringEquals": {"aws:ResourceTag/vpcroute:cluster": "<cluster>"}}
//   - for one VPC: "Condition": {"StringEquals": {"ec2:Vpc": "arn:aws:ec2:<region>:<account>:vpc/<vpc-id>"}}
//   - with --route-table, list the tables:
//     "Resource": ["arn:aws:ec2:<region>:<account>:route-table/rtb-..."]
//
// and the interface statements can pin the cluster's value with
// "StringEquals": {"aws:ResourceTag/vpcroute:cluster": "<cluster>"} (and
// "aws:RequestTag/vpcroute:cluster" for CreateTags) instead of the Null
// conditions.
package aws
