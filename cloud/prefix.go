package cloud

import "net/netip"

// PrefixContains reports whether outer holds every address of inner: both
// valid, of the same family, outer no longer than inner and inner's
// network inside outer. A prefix contains itself.
func PrefixContains(outer, inner netip.Prefix) bool {
	return outer.IsValid() && inner.IsValid() && outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}
