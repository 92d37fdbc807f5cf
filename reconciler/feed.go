package reconciler

// HostFeed carries registry snapshots to a Loop. It holds at most one: a
// snapshot not yet taken is replaced by a newer one, so a slow pass never
// makes the registry watch wait and never works through a backlog.
type HostFeed struct{ ch chan []Host }

// NewHostFeed returns an empty feed.
func NewHostFeed() *HostFeed { return &HostFeed{ch: make(chan []Host, 1)} }

// Send offers the newest snapshot, replacing one not yet taken. It never
// blocks as long as it has a single caller.
func (f *HostFeed) Send(hosts []Host) {
	for {
		select {
		case f.ch <- hosts:
			return
		default:
		}
		select {
		case <-f.ch:
		default:
		}
	}
}

// C is where the Loop receives snapshots.
func (f *HostFeed) C() <-chan []Host { return f.ch }
