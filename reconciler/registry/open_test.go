package registry

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// secret is the password used everywhere in these tests; no error or log
// line may contain it.
const secret = "Pa55-w0rd-never-printed"

// tryOpen opens with opts (cluster "test", short timeouts) and returns
// the error and the captured logs. A registry that opens is closed.
func tryOpen(t *testing.T, opts Options) (*observer.ObservedLogs, error) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	opts.Cluster = "test"
	opts.Logger = zap.New(core)
	opts.AllowInsecureCredentials = true // etcdtest serves plain http on loopback
	if opts.DialTimeout == 0 {
		opts.DialTimeout = time.Second
	}
	r, err := Open(context.Background(), opts)
	if err == nil {
		t.Cleanup(func() { r.Close() })
	}
	return logs, err
}

// assertOneLineError checks err exists, is one line, contains every
// fragment, and never the password.
func assertOneLineError(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", fragments)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error has several lines: %q", msg)
	}
	if strings.Contains(msg, secret) {
		t.Errorf("error reveals the password: %q", msg)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("error %q lacks %q", msg, f)
		}
	}
}

// assertLogsClean fails if any captured log line or field holds the password.
func assertLogsClean(t *testing.T, logs *observer.ObservedLogs) {
	t.Helper()
	for _, e := range logs.All() {
		line := e.Message + fmt.Sprint(e.ContextMap())
		if strings.Contains(line, secret) {
			t.Errorf("log reveals the password: %s", line)
		}
	}
}

func TestOpenTLS(t *testing.T) {
	t.Parallel()
	srv := etcdtest.StartTLS(t)
	files := srv.TLS()
	httpEP := "http://" + strings.TrimPrefix(srv.Endpoints()[0], "https://")

	t.Run("client certificate", func(t *testing.T) {
		r, _ := openOn(t, srv, func(o *Options) {
			o.CAFile, o.CertFile, o.KeyFile = files.CAFile, files.ClientCertFile, files.ClientKeyFile
		})
		ctx := testCtx(t)
		if err := r.Publish(ctx, testHost("i-aaa", "192.168.1.1", "10.1.0.0/24")); err != nil {
			t.Fatalf("Publish over TLS: %v", err)
		}
		if _, ok, err := r.Get(ctx, "i-aaa"); err != nil || !ok {
			t.Fatalf("Get over TLS: ok %v err %v", ok, err)
		}
	})
	t.Run("plain client to TLS server", func(t *testing.T) {
		_, err := tryOpen(t, Options{Endpoints: []string{httpEP}})
		assertOneLineError(t, err, "connect to etcd "+httpEP, "no answer within 1s", "the server speaks TLS", "expected an https:// endpoint")
		t.Logf("error: %v", err)
	})
	t.Run("no client certificate", func(t *testing.T) {
		_, err := tryOpen(t, Options{Endpoints: srv.Endpoints(), CAFile: files.CAFile})
		assertOneLineError(t, err, "connect to etcd "+srv.Endpoints()[0], "refused this client's certificate", "expected etcd-cert-file")
		t.Logf("error: %v", err)
	})
	t.Run("unknown CA", func(t *testing.T) {
		other, err := etcdtest.WritePKI(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		_, err = tryOpen(t, Options{Endpoints: srv.Endpoints(), CAFile: other.CAFile, CertFile: other.ClientCertFile, KeyFile: other.ClientKeyFile})
		assertOneLineError(t, err, "connect to etcd", "certificate signed by unknown authority")
		t.Logf("error: %v", err)
	})
	t.Run("missing files", func(t *testing.T) {
		_, err := tryOpen(t, Options{Endpoints: srv.Endpoints(), CAFile: "/nonexistent/ca.pem"})
		assertOneLineError(t, err, `etcd-ca-file "/nonexistent/ca.pem" cannot be read`)
		_, err = tryOpen(t, Options{Endpoints: srv.Endpoints(), CertFile: files.ClientKeyFile, KeyFile: files.ClientKeyFile})
		assertOneLineError(t, err, "etcd-cert-file", "cannot be loaded")
	})
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	srv.Stop()
	type opened struct {
		logs *observer.ObservedLogs
		err  error
	}
	done := make(chan opened, 1)
	go func() {
		logs, err := tryOpen(t, Options{Endpoints: srv.Endpoints(), Username: "vpcroute", Password: secret})
		done <- opened{logs, err}
	}()
	var res opened
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Open of an unreachable etcd still running 30s later")
	}
	logs, err := res.logs, res.err
	// "no answer within 1s" says the 1s dial timeout ended the wait, not
	// something slower; the probe then names the cause.
	assertOneLineError(t, err, "connect to etcd "+srv.Endpoints()[0], "no answer within 1s", "connection refused")
	assertLogsClean(t, logs)
	t.Logf("error: %v", err)
}

func TestOpenWithAuth(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	srv.EnableAuth(t, "vpcroute", secret, "/vpcroute/test/")

	t.Run("right password", func(t *testing.T) {
		r, logs := openOn(t, srv, func(o *Options) { o.Username, o.Password = "vpcroute", secret })
		ctx := testCtx(t)
		if err := r.Publish(ctx, testHost("i-aaa", "192.168.1.1", "10.1.0.0/24")); err != nil {
			t.Fatalf("Publish with auth: %v", err)
		}
		l, err := r.Campaign(ctx, LeaderInfo{Instance: "i-aaa"}, testTTL)
		if err != nil {
			t.Fatalf("Campaign with auth: %v", err)
		}
		if err := l.Resign(ctx); err != nil {
			t.Fatalf("Resign with auth: %v", err)
		}
		assertLogsClean(t, logs)
	})
	t.Run("wrong password", func(t *testing.T) {
		wrong := secret + "-typo"
		logs, err := tryOpen(t, Options{Endpoints: srv.Endpoints(), Username: "vpcroute", Password: wrong})
		assertOneLineError(t, err, "connect to etcd", "authentication failed", `etcd-username "vpcroute" or etcd-password was refused`)
		if strings.Contains(err.Error(), wrong) {
			t.Fatalf("error reveals the password: %v", err)
		}
		assertLogsClean(t, logs)
		t.Logf("error: %v", err)
	})
	t.Run("no credentials", func(t *testing.T) {
		_, err := tryOpen(t, Options{Endpoints: srv.Endpoints()})
		assertOneLineError(t, err, "connect to etcd", "expected etcd-username and etcd-password")
		t.Logf("error: %v", err)
	})
	t.Run("no permission on the cluster's keys", func(t *testing.T) {
		_, err := Open(context.Background(), Options{Endpoints: srv.Endpoints(), Username: "vpcroute", Password: secret,
			AllowInsecureCredentials: true, Cluster: "prod", DialTimeout: time.Second})
		assertOneLineError(t, err, "connect to etcd", "permission denied", `etcd-username "vpcroute" needs read-write permission on /vpcroute/prod/`)
		t.Logf("error: %v", err)
	})
	t.Run("invalid options", func(t *testing.T) {
		_, err := tryOpen(t, Options{Endpoints: []string{"foo"}, Username: "vpcroute", Password: secret})
		assertOneLineError(t, err, `etcd-endpoints "foo" is invalid`)
	})
}
