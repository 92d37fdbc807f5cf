package doctor

import (
	"fmt"
)

// checkSourceDest: with the check on, the cloud drops every forwarded
// packet whose addresses are not the interface's own: all container
// traffic. Only providers implementing cloud.SourceDestChecker (EC2) have
// the facts, and the check.
func checkSourceDest(sd *SourceDestFacts) Check {
	d := defSourceDest
	switch {
	case sd.Err != "":
		return d.warn("cannot read the source/destination check: "+sd.Err, "check the instance role's permissions (ec2:DescribeNetworkInterfaceAttribute)")
	case sd.On:
		return d.fail(fmt.Sprintf("the source/destination check of %s is on: the cloud drops every forwarded container packet", sd.Interface),
			fmt.Sprintf("run `vpcroute sync` (it turns it off), or: aws ec2 modify-network-interface-attribute --network-interface-id %s --no-source-dest-check", sd.Interface))
	}
	return d.pass(fmt.Sprintf("the source/destination check of %s is off", sd.Interface))
}
