package hostcfg

import "context"

// Ping asks the Docker daemon whether it answers and returns the API
// version it speaks. The error is one line naming the daemon and, for a
// unix socket, the real cause (no such file, permission denied, ...).
func (d *Docker) Ping(ctx context.Context) (string, error) {
	p, err := d.cli.Ping(ctx)
	if err != nil {
		return "", d.unreachable(err)
	}
	return p.APIVersion, nil
}
