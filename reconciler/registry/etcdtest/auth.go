package etcdtest

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// EnableAuth turns on etcd authentication (simple tokens, the etcd 3.4
// default) with a root user and a user that may read and write only keys
// under prefix. Requests without valid credentials fail afterwards.
func (s *Server) EnableAuth(t testing.TB, user, password, prefix string) {
	t.Helper()
	cfg := clientv3.Config{Endpoints: s.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	if s.tls != nil {
		tc, err := s.tls.ClientConfig()
		if err != nil {
			t.Fatalf("enable auth: %v", err)
		}
		cfg.TLS = tc
	}
	c, err := clientv3.New(cfg)
	if err != nil {
		t.Fatalf("enable auth: connect: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	steps := []struct {
		what string
		do   func() error
	}{
		{"add root", func() error { _, err := c.UserAdd(ctx, "root", "root-"+randomSuffix(t)); return err }},
		{"grant root", func() error { _, err := c.UserGrantRole(ctx, "root", "root"); return err }},
		{"add role", func() error { _, err := c.RoleAdd(ctx, user); return err }},
		{"grant prefix", func() error {
			_, err := c.RoleGrantPermission(ctx, user, prefix, clientv3.GetPrefixRangeEnd(prefix), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		}},
		{"add user", func() error { _, err := c.UserAdd(ctx, user, password); return err }},
		{"grant user", func() error { _, err := c.UserGrantRole(ctx, user, user); return err }},
		{"enable", func() error { _, err := c.AuthEnable(ctx); return err }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("enable auth: %s: %v", st.what, err)
		}
	}
}
