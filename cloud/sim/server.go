package sim

import (
	"fmt"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Server is a simulated Alibaba Cloud region: the VPC and ECS RPC APIs, the
// ECS metadata service and the /sim/v1 admin API, all on one http.Handler.
// It is safe for concurrent use.
type Server struct {
	log *zap.Logger

	mu           sync.Mutex // guards everything below up to dpMu
	w            *world
	beh          behaviour
	spec         Behaviour // the Behaviour beh was resolved from
	creds        *credStore
	faults       []*FaultRule
	reads        *bucket
	writes       *bucket
	stats        statsCounter
	timers       map[string]*time.Timer // by entry ID
	conflictTurn int
	clientTokens map[string]string // ClientToken -> RouteEntryId
	imdsTokens   map[string]imdsToken
	rng          *rand.Rand
	closed       bool

	dpMu      sync.Mutex // serializes data plane syncs; taken before mu
	dp        dataplane
	dpLastErr string

	reqSeq atomic.Uint64
}

// Option adjusts a Server at construction.
type Option func(*settings)

type settings struct {
	log      *zap.Logger
	netns    string
	seed     int64
	override func(*Behaviour)
}

// WithLogger sets the logger (default: none). Secrets are never logged.
func WithLogger(l *zap.Logger) Option { return func(s *settings) { s.log = l } }

// WithPendingDelay overrides behaviour.pendingDelay; 0 makes every change
// complete at once.
func WithPendingDelay(d time.Duration) Option {
	return withBehaviour(func(b *Behaviour) { b.PendingDelay = &d })
}

// WithBehaviour lets the caller edit the topology's behaviour before it is
// validated.
func WithBehaviour(edit func(*Behaviour)) Option { return withBehaviour(edit) }

// WithDataplane programs kernel routes for Available entries in the named
// network namespace ("self" for the current one; "" disables, the default).
func WithDataplane(netns string) Option { return func(s *settings) { s.netns = netns } }

// WithSeed seeds the random source used by probabilistic faults.
func WithSeed(seed int64) Option { return func(s *settings) { s.seed = seed } }

func withBehaviour(edit func(*Behaviour)) Option {
	return func(s *settings) {
		prev := s.override
		s.override = func(b *Behaviour) {
			if prev != nil {
				prev(b)
			}
			edit(b)
		}
	}
}

// New builds a Server for the topology. With WithDataplane it opens the
// namespace and removes kernel routes a previous run left behind.
func New(topo Topology, opts ...Option) (*Server, error) {
	st := settings{log: zap.NewNop(), seed: 1}
	for _, o := range opts {
		o(&st)
	}
	if st.override != nil {
		b := topo.Behaviour
		if b.PendingDelay != nil {
			d := *b.PendingDelay
			b.PendingDelay = &d
		}
		st.override(&b)
		topo.Behaviour = b
	}
	w, err := compile(topo)
	if err != nil {
		return nil, err
	}
	beh, err := resolveBehaviour(topo.Behaviour, w.d)
	if err != nil {
		return nil, err
	}
	creds, err := compileCredentials(topo.Credentials)
	if err != nil {
		return nil, err
	}
	s := &Server{
		log:          st.log,
		w:            w,
		beh:          beh,
		spec:         topo.Behaviour,
		creds:        creds,
		timers:       map[string]*time.Timer{},
		clientTokens: map[string]string{},
		imdsTokens:   map[string]imdsToken{},
		rng:          rand.New(rand.NewSource(st.seed)),
		stats:        newStatsCounter(),
	}
	s.resetBuckets()
	for _, f := range topo.Faults {
		s.faults = append(s.faults, &f)
	}
	if st.netns != "" {
		dp, err := openDataplane(st.netns, s.log)
		if err != nil {
			return nil, err
		}
		s.dp = dp
		s.SyncDataplane()
	}
	return s, nil
}

// Handler returns the HTTP handler serving every API of the simulator.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/sim/v1/"):
		s.serveAdmin(w, r)
	case strings.HasPrefix(r.URL.Path, "/latest/"):
		s.serveMetadataByCaller(w, r)
	default:
		s.w.d.serveAPI(s, w, r)
	}
}

// Close stops pending transitions and, with a data plane, removes every
// kernel route the simulator added. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for id, t := range s.timers {
		t.Stop()
		delete(s.timers, id)
	}
	s.mu.Unlock()
	s.dpMu.Lock()
	defer s.dpMu.Unlock()
	if s.dp == nil {
		return nil
	}
	err := s.dp.close()
	s.dp = nil
	if err != nil {
		return fmt.Errorf("close data plane: %w", err)
	}
	return nil
}

// provider returns the cloud the world speaks.
func (s *Server) provider() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.provider
}

// Provider returns the cloud the simulator speaks: ProviderAliyun or
// ProviderAWS.
func (s *Server) Provider() string { return s.provider() }

// Region returns the simulated region ID.
func (s *Server) Region() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.region
}

func (s *Server) newRequestID() string {
	n := s.reqSeq.Add(1)
	return fmt.Sprintf("51A0C0DE-%04X-4000-8000-%012X", uint16(n>>48), n&0xFFFFFFFFFFFF)
}
