package hostcfg

import (
	"context"
	"fmt"

	"go.uber.org/zap"
)

// maxRounds bounds the read-plan-execute rounds. One round normally does
// everything and a second read confirms it; more are needed only when
// someone edits the same chains at the same moment.
const maxRounds = 4

// Apply makes the host forward and exempt cluster traffic as opts says:
// ip_forward on, VPCROUTE-FORWARD jumped from DOCKER-USER, VPCROUTE-POSTROUTING
// jumped from the top of nat POSTROUTING, and the FORWARD policy when
// ForwardPolicyAccept is set (or restored when it no longer is). It is
// idempotent: on a host already configured it changes nothing and returns
// an empty Result. Rules that do not carry Tag(opts.Cluster) are never
// touched. Invalid options are refused before anything changes.
//
// Apply works on the network namespace it runs in. Connection tracking is
// left alone: flows that predate the NAT exemption keep their NAT until they
// end, and flushing would break live connections.
func Apply(ctx context.Context, opts Options, log *zap.Logger) (Result, error) {
	return applyWith(ctx, newIPTables, opts, log)
}

// applyWith is Apply with the iptables handle made by newIPT, so that tests
// with a fake go through the same validation as Apply: invalid options are
// refused before a handle even exists.
func applyWith(ctx context.Context, newIPT func() (iptablesAPI, error), opts Options, log *zap.Logger) (Result, error) {
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	ipt, err := newIPT()
	if err != nil {
		return Result{}, fmt.Errorf("hostcfg apply: %w", err)
	}
	opts = opts.withDefaults()
	rs := desiredRules(opts)
	return run(ctx, "apply", ipt, opts, log, func(s snapshot) plan {
		return planApply(s, rs, opts.ForwardPolicyAccept)
	})
}

// Cleanup removes what Apply added for opts.Cluster and nothing else: its
// rules, its jumps and chains, DOCKER-USER and its FORWARD jump if vpcroute
// created them and nobody else uses them, and the FORWARD policy if vpcroute
// changed it. Only Cluster, ProcSys and StateDir are read from opts.
// ip_forward stays on: Docker needs it too.
func Cleanup(ctx context.Context, opts Options, log *zap.Logger) (Result, error) {
	return cleanupWith(ctx, newIPTables, opts, log)
}

// cleanupWith is Cleanup with the iptables handle made by newIPT.
func cleanupWith(ctx context.Context, newIPT func() (iptablesAPI, error), opts Options, log *zap.Logger) (Result, error) {
	if err := opts.validateCommon(); err != nil {
		return Result{}, err
	}
	ipt, err := newIPT()
	if err != nil {
		return Result{}, fmt.Errorf("hostcfg cleanup: %w", err)
	}
	opts = opts.withDefaults()
	tag := Tag(opts.Cluster)
	return run(ctx, "cleanup", ipt, opts, log, func(s snapshot) plan {
		return planCleanup(s, tag)
	})
}

// run reads the host, plans and executes under the state directory's lock,
// then reads again until a plan comes out empty: the host is verified to be
// as wanted, and a concurrent edit by Docker is simply planned around.
func run(ctx context.Context, what string, ipt iptablesAPI, opts Options, log *zap.Logger, mk func(snapshot) plan) (Result, error) {
	if log == nil {
		log = zap.NewNop()
	}
	unlock, err := stateDir(opts.StateDir).lock(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("hostcfg %s: %w", what, err)
	}
	defer unlock()
	var res Result
	for round := 1; ; round++ {
		s, err := readSnapshot(ipt, opts)
		if err != nil {
			return res, fmt.Errorf("hostcfg %s: %w", what, err)
		}
		p := mk(s)
		if round == 1 || len(p.changes) > 0 {
			res.Notes = p.notes
		}
		if len(p.changes) == 0 {
			for _, n := range res.Notes {
				log.Info(n, zap.String("cluster", opts.Cluster))
			}
			return res, nil
		}
		if round == maxRounds {
			return res, fmt.Errorf("hostcfg %s: chains still differ after %d rounds (something else keeps editing them); next change would be %s", what, maxRounds-1, p.changes[0])
		}
		if err := executeAll(ctx, ipt, opts, p.changes, log, &res); err != nil {
			return res, fmt.Errorf("hostcfg %s: %w", what, err)
		}
	}
}

// executeAll carries out the changes in order, recording each one made.
func executeAll(ctx context.Context, ipt iptablesAPI, opts Options, changes []Change, log *zap.Logger, res *Result) error {
	for _, c := range changes {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("before %s: %w", c, err)
		}
		if err := execute(ipt, opts, c); err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		res.Changes = append(res.Changes, c)
		log.Info("host changed", zap.Stringer("change", c), zap.String("cluster", opts.Cluster))
	}
	return nil
}
