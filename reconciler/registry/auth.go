package registry

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// tokenFreeAuth sends Authenticate through a second client that carries no
// token.
//
// The etcd 3.6 client re-authenticates when a token becomes invalid (simple
// tokens die with an etcd restart, JWTs expire), but it sends the
// Authenticate call with the invalid token attached. etcd 3.4 servers (the
// Debian package) check that token even on Authenticate and refuse it, and
// the client then recurses into re-authenticating until the request times
// out: once its token expired or etcd restarted, an authenticated client
// never recovered (TestAuthTokenExpiry, TestAuthSurvivesEtcdRestart). The 3.5 client cleared the token first
// (etcd PR 12549); 3.6 dropped that because 3.5+ servers skip the check.
type tokenFreeAuth struct {
	clientv3.Auth
	anon *clientv3.Client
}

// Authenticate asks for a token without presenting the stale one.
func (a tokenFreeAuth) Authenticate(ctx context.Context, name, password string) (*clientv3.AuthenticateResponse, error) {
	return a.anon.Authenticate(ctx, name, password)
}

// installTokenFreeAuth routes client's re-authentication through a client
// built from cfg without credentials. It must run before client is used
// by anything else. The returned client must be closed with client.
func installTokenFreeAuth(client *clientv3.Client, cfg clientv3.Config) (*clientv3.Client, error) {
	cfg.Username, cfg.Password = "", ""
	anon, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("second connection for authentication: %w", err)
	}
	client.Auth = tokenFreeAuth{Auth: client.Auth, anon: anon}
	return anon, nil
}
