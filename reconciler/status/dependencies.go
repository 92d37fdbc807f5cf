package status

import (
	"slices"
	"sync"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// Dependency states (Dependency.State).
const (
	// DepWaiting: not reached yet since the daemon started.
	DepWaiting = "waiting"
	// DepUp: the last attempt to use it worked.
	DepUp = "up"
	// DepDown: the last attempt failed; Error says why. The daemon keeps
	// retrying; it never exits for an unreachable dependency.
	DepDown = "down"
)

// Names of the daemon's dependencies.
const (
	DepDocker = "docker"
	DepCloud  = "cloud"
	DepEtcd   = "etcd"
)

// Dependency is the state of one thing the daemon needs from outside the
// host: Docker, the cloud API, etcd.
type Dependency struct {
	Name  string `json:"name"`
	State string `json:"state"`
	// Since is when State last changed.
	Since time.Time `json:"since"`
	// Error is the last failure, scrubbed of credentials, for State down.
	Error string `json:"error,omitempty"`
}

// Dependencies tracks the daemon's dependencies; it is safe for concurrent
// use.
type Dependencies struct {
	mu   sync.Mutex
	deps []Dependency
	now  func() time.Time
}

// NewDependencies tracks names, each waiting from now on.
func NewDependencies(now func() time.Time, names ...string) *Dependencies {
	if now == nil {
		now = time.Now
	}
	d := &Dependencies{now: now}
	for _, n := range names {
		d.deps = append(d.deps, Dependency{Name: n, State: DepWaiting, Since: now().UTC()})
	}
	return d
}

// Set records the outcome of the latest use of name: up when err is nil,
// down otherwise. It reports whether the state changed (for a log line
// on each change rather than on each retry). Unknown names are ignored.
func (d *Dependencies) Set(name string, err error) (changed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(d.deps, func(x Dependency) bool { return x.Name == name })
	if i < 0 {
		return false
	}
	state, msg := DepUp, ""
	if err != nil {
		state, msg = DepDown, cloud.Redact(err.Error())
	}
	dep := &d.deps[i]
	changed = dep.State != state
	if changed {
		dep.Since = d.now().UTC()
	}
	dep.State, dep.Error = state, msg
	return changed
}

// List returns every dependency, in the order given to NewDependencies.
func (d *Dependencies) List() []Dependency {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.deps)
}

// Missing returns the first dependency that is not up.
func (d *Dependencies) Missing() (Dependency, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, x := range d.deps {
		if x.State != DepUp {
			return x, true
		}
	}
	return Dependency{}, false
}
