package main

import (
	"bytes"
	"fmt"
	"regexp"
)

// sourceBinary is where deploy/vpcroute.service starts vpcroute from: a
// tarball or `make install` put it there.
const sourceBinary = "/usr/local/bin/vpcroute"

// execStart matches the unit's ExecStart= lines.
var execStart = regexp.MustCompile(`(?m)^ExecStart=(\S+)`)

// unitForBinary returns the unit starting vpcroute from bin instead of
// sourceBinary. It refuses a unit whose ExecStart lines are not exactly one
// start of sourceBinary: a silent no-op would ship a unit that starts a
// binary the package does not install.
func unitForBinary(unit []byte, bin string) ([]byte, error) {
	return namedUnitForBinary("deploy/vpcroute.service", unit, bin)
}

// namedUnitForBinary is unitForBinary for the unit file at name.
func namedUnitForBinary(name string, unit []byte, bin string) ([]byte, error) {
	m := execStart.FindAllSubmatchIndex(unit, -1)
	if len(m) != 1 || string(unit[m[0][2]:m[0][3]]) != sourceBinary {
		return nil, fmt.Errorf("%s: expected one ExecStart=%s line, found %d ExecStart lines", name, sourceBinary, len(m))
	}
	var out bytes.Buffer
	out.Write(unit[:m[0][2]])
	out.WriteString(bin)
	out.Write(unit[m[0][3]:])
	return out.Bytes(), nil
}
