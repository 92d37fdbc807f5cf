package aliyun

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// DefaultMetadataEndpoint is the ECS instance metadata service. Only
// production defaults name it; tests and the lab point at the simulator.
const DefaultMetadataEndpoint = "http://100.100.100.200"

// metadataClient reads the ECS instance metadata service. It asks for a
// session token first (the service's hardened mode) and falls back to plain
// reads where the service does not issue tokens.
type metadataClient struct {
	base string
	http *http.Client
}

func newMetadataClient(base string) *metadataClient {
	return &metadataClient{
		base: strings.TrimRight(base, "/"),
		http: &http.Client{Timeout: 3 * time.Second},
	}
}

// token returns a metadata session token, or "" when the service does not
// issue them.
func (m *metadataClient) token(ctx context.Context) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, m.base+"/latest/api/token", nil)
	if err != nil {
		return ""
	}
	req.Header.Set("X-aliyun-ecs-metadata-token-ttl-seconds", "300")
	resp, err := m.http.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// get reads one metadata path below /latest/meta-data/. Its errors are
// scrubbed of credentials (the endpoint's userinfo, if any).
func (m *metadataClient) get(ctx context.Context, token, path string) (string, error) {
	v, err := m.read(ctx, token, path)
	return v, cloud.RedactError(err)
}

func (m *metadataClient) read(ctx context.Context, token, path string) (string, error) {
	url := m.base + "/latest/meta-data/" + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("metadata %s: %w", path, err)
	}
	if token != "" {
		req.Header.Set("X-aliyun-ecs-metadata-token", token)
	}
	resp, err := m.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("metadata %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("metadata %s: read: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("metadata %s: HTTP %d", url, resp.StatusCode)
	}
	return strings.TrimSpace(string(b)), nil
}
