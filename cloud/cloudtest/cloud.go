// Package cloudtest is an in-memory cloud and a provider for it, for
// tests of what sits above cloud.Provider (the reconciler, the CLI,
// doctor). It is also the proof that a provider is one package plus one
// registration: a test adds it with cloudtest.Register(registry, world)
// and selects it with --provider fake, changing nothing else.
package cloudtest

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/vpcroute/vpcroute/cloud"
)

// Cloud is one in-memory VPC: its instances and route tables. It is safe
// for concurrent use; every provider built by Register shares it.
type Cloud struct {
	mu      sync.Mutex
	network cloud.Network
	// instances maps an instance ID to its private address.
	instances map[string]netip.Addr
	// checkOn holds the instances whose source/destination check is on.
	checkOn map[string]bool
	tables  map[string][]cloud.Route
	calls   []string
}

// NewCloud returns a VPC with the network's route tables, empty.
func NewCloud(network cloud.Network) *Cloud {
	c := &Cloud{network: network, instances: map[string]netip.Addr{}, checkOn: map[string]bool{}, tables: map[string][]cloud.Route{}}
	for _, t := range network.RouteTables {
		c.tables[t] = nil
	}
	return c
}

// AddInstance adds an instance; its source/destination check is on until
// PrepareHost turns it off, as on EC2.
func (c *Cloud) AddInstance(id string, ip netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.instances[id] = ip
	c.checkOn[id] = true
}

// AddRoute puts an entry into a table as someone else would (an operator,
// another cluster).
func (c *Cloud) AddRoute(r cloud.Route) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tables[r.TableID] = append(c.tables[r.TableID], r)
}

// Table returns a copy of a table's entries.
func (c *Cloud) Table(id string) []cloud.Route {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.tables[id])
}

// SourceDestCheckOn reports whether the instance's check is on.
func (c *Cloud) SourceDestCheckOn(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checkOn[id]
}

// Calls returns the calls providers made, in order ("CreateRoutes vtb-1").
func (c *Cloud) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// record notes a call; the caller holds mu.
func (c *Cloud) record(format string, args ...any) {
	c.calls = append(c.calls, fmt.Sprintf(format, args...))
}

// find returns the index of the entry for dst in table, or -1; the caller
// holds mu.
func (c *Cloud) find(table string, dst netip.Prefix) int {
	return slices.IndexFunc(c.tables[table], func(e cloud.Route) bool { return e.Destination == dst })
}
