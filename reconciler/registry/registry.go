// Package registry keeps vpcroute's shared state in etcd v3: one record per
// host, the leader election, and the leader's last reconcile report.
//
// Key layout, all under /vpcroute/<cluster>/:
//
//	hosts/<instance>   JSON reconciler.Host, no lease: a record outlives
//	                   agent and etcd restarts, so a restarting agent never
//	                   makes its routes disappear
//	election/          concurrency.Election prefix; values are JSON LeaderInfo
//	report             JSON reconciler.Report, written by the leader
//
// Every request is bounded by Options.RequestTimeout unless the caller's
// context ends sooner, so nothing hangs while etcd is down.
package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// keyRoot is the prefix of every key vpcroute writes.
const keyRoot = "/vpcroute/"

// reconnectMaxDelay caps the wait between reconnection attempts to etcd.
const reconnectMaxDelay = 2 * time.Second

// Registry is a connection to etcd scoped to one cluster's keys. It is
// safe for concurrent use.
type Registry struct {
	client   *clientv3.Client
	closeAll func() error // closes client and its helper connection
	log      *zap.Logger
	timeout  time.Duration
	// progressEvery is how often a quiet host watch asks for progress.
	progressEvery time.Duration

	prefix      string // /vpcroute/<cluster>/
	hostsPrefix string // .../hosts/
	electionPfx string // .../election/
	reportKey   string // .../report

	// ctx ends when the registry is closed; background work (lease
	// revocation after a lost leadership) stops with it.
	ctx    context.Context
	cancel context.CancelFunc
}

// Open validates opts, connects to etcd and checks within DialTimeout that
// it answers (and that the credentials may read the cluster's keys). It
// fails with one line naming the endpoints and the cause when etcd is
// unreachable, speaks TLS to a plain client, or refuses the credentials.
func Open(ctx context.Context, opts Options) (*Registry, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	tlsCfg, err := opts.tlsConfig()
	if err != nil {
		return nil, err
	}
	eps := strings.Join(opts.Endpoints, ",")
	cfg := clientv3.Config{
		Endpoints:   opts.Endpoints,
		DialTimeout: opts.DialTimeout,
		TLS:         tlsCfg,
		Username:    opts.Username,
		Password:    opts.Password,
		// The client logs every retry at warn level; the registry reports
		// what matters itself.
		Logger:               opts.Logger.Named("etcd").WithOptions(zap.IncreaseLevel(zapcore.ErrorLevel)),
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		// gRPC's default reconnect backoff grows to two minutes; after an
		// etcd outage agents and candidates should be back within seconds.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 250 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: reconnectMaxDelay},
			MinConnectTimeout: 5 * time.Second,
		})},
	}
	client, err := clientv3.New(cfg)
	if err != nil {
		// With credentials, New already talks to etcd (to get a token).
		return nil, fmt.Errorf("connect to etcd %s: %s", eps, describeConnectError(opts, tlsCfg, err))
	}
	var authClient *clientv3.Client
	if opts.Username != "" {
		if authClient, err = installTokenFreeAuth(client, cfg); err != nil {
			return nil, errors.Join(fmt.Errorf("connect to etcd %s: %s", eps, scrub(opts, err.Error())), client.Close())
		}
	}
	closeAll := func() error { return errors.Join(client.Close(), closeIfSet(authClient)) }

	prefix := keyRoot + opts.Cluster + "/"
	// A cheap read of the cluster's keys proves the connection, the TLS
	// setup and the credentials' permissions in one round trip.
	pctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	_, err = client.Get(pctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	cancel()
	if err != nil {
		msg := describeConnectError(opts, tlsCfg, err)
		if cerr := closeAll(); cerr != nil {
			msg += fmt.Sprintf(" (closing the client: %s)", scrub(opts, cerr.Error()))
		}
		return nil, fmt.Errorf("connect to etcd %s: %s", eps, msg)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	r := &Registry{
		client:        client,
		closeAll:      closeAll,
		log:           opts.Logger,
		timeout:       opts.RequestTimeout,
		progressEvery: opts.WatchProgressInterval,
		prefix:        prefix,
		hostsPrefix:   prefix + "hosts/",
		electionPfx:   prefix + "election/",
		reportKey:     prefix + "report",
		ctx:           rctx,
		cancel:        rcancel,
	}
	r.log.Info("connected to etcd", zap.String("endpoints", eps), zap.String("prefix", prefix),
		zap.Bool("tls", tlsCfg != nil), zap.Bool("auth", opts.Username != ""))
	return r, nil
}

// Close ends background work and closes the connection. Leaderships still
// held end (their Done channels close); their leases expire after the TTL.
func (r *Registry) Close() error {
	r.cancel()
	if err := r.closeAll(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("close etcd client: %w", err)
	}
	return nil
}

// closeIfSet closes an optional client.
func closeIfSet(c *clientv3.Client) error {
	if c == nil {
		return nil
	}
	return c.Close()
}

// Prefix returns the cluster's key prefix, /vpcroute/<cluster>/.
func (r *Registry) Prefix() string { return r.prefix }

// reqCtx bounds one request by the registry's request timeout and ends it
// when the registry closes (a closed client would otherwise wait for the
// whole timeout).
func (r *Registry) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	stop := context.AfterFunc(r.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}
