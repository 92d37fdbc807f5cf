package lab

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// RegistryPrefix is where the lab cluster's keys live in etcd.
const RegistryPrefix = "/vpcroute/" + ClusterName + "/"

// EtcdPut writes key=value into the lab's etcd as any host could: through
// etcd's JSON gateway (/v3/kv/put), from inside the router namespace with
// the machine's busybox wget. Tests use it to forge registry records.
func (l *Lab) EtcdPut(ctx context.Context, key, value string) error {
	body, err := json.Marshal(map[string]string{
		"key": base64.StdEncoding.EncodeToString([]byte(key)), "value": base64.StdEncoding.EncodeToString([]byte(value)),
	})
	if err != nil {
		return err
	}
	if _, err := l.etcdPost(ctx, "/v3/kv/put", body); err != nil {
		return fmt.Errorf("etcd put %s: %w", key, err)
	}
	return nil
}

// EtcdGet reads one key from the lab's etcd; false when it is absent.
func (l *Lab) EtcdGet(ctx context.Context, key string) (string, bool, error) {
	body, err := json.Marshal(map[string]string{"key": base64.StdEncoding.EncodeToString([]byte(key))})
	if err != nil {
		return "", false, err
	}
	out, err := l.etcdPost(ctx, "/v3/kv/range", body)
	if err != nil {
		return "", false, fmt.Errorf("etcd get %s: %w", key, err)
	}
	var resp struct {
		Kvs []struct {
			Value string `json:"value"`
		} `json:"kvs"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		return "", false, fmt.Errorf("etcd get %s: answer %q: %w", key, out, err)
	}
	if len(resp.Kvs) == 0 {
		return "", false, nil
	}
	v, err := base64.StdEncoding.DecodeString(resp.Kvs[0].Value)
	if err != nil {
		return "", false, fmt.Errorf("etcd get %s: value: %w", key, err)
	}
	return string(v), true, nil
}

func (l *Lab) etcdPost(ctx context.Context, path string, body []byte) (string, error) {
	if l.etcd == nil {
		return "", fmt.Errorf("the lab runs no etcd")
	}
	return run(ctx, cmdSpec{name: "nsenter", timeout: 5 * time.Second, args: []string{
		"--net=" + nsPath(l.Router), "--", busyboxPath, "wget", "-q", "-O", "-",
		"--header", "Content-Type: application/json", "--post-data", string(body), l.EtcdEndpoint() + path}})
}
