package etcdtest

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// connect returns a client for s, closed when the test ends.
func connect(t *testing.T, s *Server) *clientv3.Client {
	t.Helper()
	cfg := clientv3.Config{Endpoints: s.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	if f := s.TLS(); f != nil {
		tc, err := f.ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLS = tc
	}
	c, err := clientv3.New(cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStopRestartKeepsData(t *testing.T) {
	s := Start(t)
	c := connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, "/k", "v1"); err != nil {
		t.Fatalf("put: %v", err)
	}
	s.Stop()
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := c.Get(short, "/k")
	cancelShort()
	if err == nil {
		t.Fatal("get succeeded while the server was stopped")
	}
	s.Stop() // stopping twice is harmless
	s.Restart()
	resp, err := c.Get(ctx, "/k")
	if err != nil {
		t.Fatalf("get after restart: %v", err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v1" {
		t.Fatalf("after restart /k = %v, want v1", resp.Kvs)
	}
}

func TestStartTLSRequiresClientCertificate(t *testing.T) {
	s := StartTLS(t)
	if got := s.Endpoints()[0]; got[:8] != "https://" {
		t.Fatalf("endpoint %s, want https://", got)
	}
	c := connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, "/k", "v"); err != nil {
		t.Fatalf("put over TLS: %v", err)
	}

	// The CA alone (no client certificate) is refused.
	tc, err := s.TLS().ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	tc.Certificates = nil
	anon, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), TLS: tc, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	short, cancelShort := context.WithTimeout(ctx, time.Second)
	defer cancelShort()
	if _, err := anon.Get(short, "/k"); err == nil {
		t.Fatal("get without a client certificate succeeded")
	}
}

func TestEnableAuth(t *testing.T) {
	s := Start(t)
	s.EnableAuth(t, "app", "app-password", "/app/")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	anon := connect(t, s)
	if _, err := anon.Put(ctx, "/app/x", "v"); err == nil {
		t.Fatal("anonymous put succeeded with auth enabled")
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), DialTimeout: 5 * time.Second,
		Username: "app", Password: "app-password", Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("connect as app: %v", err)
	}
	defer c.Close()
	if _, err := c.Put(ctx, "/app/x", "v"); err != nil {
		t.Fatalf("put inside the granted prefix: %v", err)
	}
	if _, err := c.Put(ctx, "/other", "v"); err == nil {
		t.Fatal("put outside the granted prefix succeeded")
	}
}
