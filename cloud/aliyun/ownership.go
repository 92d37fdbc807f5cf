package aliyun

import (
	"fmt"
	"strings"
)

// Ownership marks. Every entry vpcroute creates carries both:
//
//	RouteEntryName: vpcroute-<cluster>
//	Description:    managed by vpcroute; cluster=<cluster>; instance=<instance-id>
//
// An entry is vpcroute's only when both fields agree on the cluster, so an
// operator who renames or re-describes an entry takes it out of vpcroute's
// hands rather than the other way round.
const (
	namePrefix        = "vpcroute-"
	descriptionPrefix = "managed by vpcroute; "
)

// entryName is the RouteEntryName of an entry owned by cluster.
func entryName(cluster string) string { return namePrefix + cluster }

// entryDescription is the Description of an entry owned by cluster that
// points at instance.
func entryDescription(cluster, instance string) string {
	return descriptionPrefix + "cluster=" + cluster + "; instance=" + instance
}

// ownerOf returns the cluster that owns an entry with this name and
// description, or "" when the entry is not vpcroute's.
func ownerOf(name, description string) string {
	if !strings.HasPrefix(name, namePrefix) || !strings.HasPrefix(description, descriptionPrefix) {
		return ""
	}
	cluster := strings.TrimPrefix(name, namePrefix)
	fields := descriptionFields(strings.TrimPrefix(description, descriptionPrefix))
	if cluster == "" || fields["cluster"] != cluster {
		return ""
	}
	return cluster
}

// descriptionFields parses "k=v; k=v" into a map.
func descriptionFields(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			out[k] = v
		}
	}
	return out
}

// writeCluster returns the cluster the provider writes for, or why it may
// not write: without a cluster no entry it makes could be recognised as
// the cluster's again.
func (p *Provider) writeCluster(verb string) (string, error) {
	if p.opts.Cluster == "" {
		return "", fmt.Errorf("cannot %s routes: the aliyun provider was set up without cluster-name, and recognises no entry as its own", verb)
	}
	return p.opts.Cluster, nil
}
