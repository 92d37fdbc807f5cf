package lab

import (
	"fmt"
	"net/netip"
	"strings"
	"text/tabwriter"
)

// EndpointKind says whether a probe runs in a container or on a host.
type EndpointKind int

// Endpoint kinds.
const (
	// Container is a host's busybox container.
	Container EndpointKind = iota
	// HostNS is the host itself (its network namespace).
	HostNS
)

// Endpoint is one end of a reachability probe.
type Endpoint struct {
	Kind EndpointKind
	// Host is the index of the lab host the endpoint lives on.
	Host int
	IP   netip.Addr
}

// Label names the endpoint for a newcomer: "container0 10.0.0.2" or
// "host0 192.168.1.196".
func (e Endpoint) Label() string {
	if e.Kind == Container {
		return fmt.Sprintf("container%d %s", e.Host, e.IP)
	}
	return fmt.Sprintf("host%d %s", e.Host, e.IP)
}

// Outcome is the result of one matrix cell.
type Outcome int

// Cell outcomes.
const (
	// NotProbed marks a container's cell to itself.
	NotProbed Outcome = iota
	// Reachable means at least one echo reply came back.
	Reachable
	// Unreachable means no reply came back.
	Unreachable
)

// Matrix is who reaches whom: rows are sources (every container, then every
// host), columns are targets (every container). Container-to-itself cells
// are not probed; a host to its own container is probed (it proves the
// container is up) but is not cross-host.
type Matrix struct {
	From  []Endpoint
	To    []Endpoint
	Cells [][]Outcome
}

// NewMatrix lays out an unprobed matrix for containers and hosts.
func NewMatrix(containers, hosts []Endpoint) *Matrix {
	m := &Matrix{To: append([]Endpoint(nil), containers...)}
	m.From = append(append(m.From, containers...), hosts...)
	m.Cells = make([][]Outcome, len(m.From))
	for i := range m.Cells {
		m.Cells[i] = make([]Outcome, len(m.To))
	}
	return m
}

// Probe is one cell to measure.
type Probe struct {
	Row, Col int
	From, To Endpoint
}

// Probes lists every cell that is measured.
func (m *Matrix) Probes() []Probe {
	var ps []Probe
	for r, f := range m.From {
		for c, t := range m.To {
			if f == t {
				continue
			}
			ps = append(ps, Probe{Row: r, Col: c, From: f, To: t})
		}
	}
	return ps
}

// Set records a cell's result.
func (m *Matrix) Set(row, col int, ok bool) {
	if ok {
		m.Cells[row][col] = Reachable
	} else {
		m.Cells[row][col] = Unreachable
	}
}

// CrossHost counts the cross-host cells (source and target on different
// hosts) that are reachable, and how many there are.
func (m *Matrix) CrossHost() (reachable, total int) {
	for _, p := range m.Probes() {
		if p.From.Host == p.To.Host {
			continue
		}
		total++
		if m.Cells[p.Row][p.Col] == Reachable {
			reachable++
		}
	}
	return reachable, total
}

// Full reports whether every probed cell is reachable.
func (m *Matrix) Full() bool {
	return len(m.Mismatches(func(Endpoint, Endpoint) bool { return true })) == 0
}

// Mismatches lists the cells whose outcome differs from expect(from, to),
// one readable line each; empty means the matrix is as expected.
func (m *Matrix) Mismatches(expect func(from, to Endpoint) bool) []string {
	var out []string
	for _, p := range m.Probes() {
		want := expect(p.From, p.To)
		got := m.Cells[p.Row][p.Col]
		switch {
		case got == NotProbed:
			out = append(out, fmt.Sprintf("%s -> %s: not probed", p.From.Label(), p.To.Label()))
		case want && got != Reachable:
			out = append(out, fmt.Sprintf("%s -> %s: unreachable, want reachable", p.From.Label(), p.To.Label()))
		case !want && got == Reachable:
			out = append(out, fmt.Sprintf("%s -> %s: reachable, want unreachable", p.From.Label(), p.To.Label()))
		}
	}
	return out
}

// String renders the matrix as an aligned table.
func (m *Matrix) String() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	fmt.Fprint(tw, "from \\ to")
	for _, t := range m.To {
		fmt.Fprintf(tw, "\t%s", t.Label())
	}
	fmt.Fprintln(tw)
	for r, f := range m.From {
		fmt.Fprint(tw, f.Label())
		for c, t := range m.To {
			cell := "·"
			switch m.Cells[r][c] {
			case Reachable:
				cell = "ok"
			case Unreachable:
				cell = "FAIL"
			}
			if f != t && f.Host == t.Host {
				cell += " (same host)"
			}
			fmt.Fprintf(tw, "\t%s", cell)
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush() // writes to a strings.Builder cannot fail
	return b.String()
}
