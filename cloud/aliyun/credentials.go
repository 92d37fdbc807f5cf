package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/vpcroute/vpcroute/cloud"
)

// Environment variables read for static credentials, as the SDK names them.
const (
	envAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	envAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	envSecurityToken   = "ALIBABA_CLOUD_SECURITY_TOKEN"
)

// errNoCredentials is returned when neither source yields credentials.
var errNoCredentials = errors.New("no Alibaba Cloud credentials: set " + envAccessKeyID + " and " +
	envAccessKeySecret + ", or attach a RAM role to the instance")

// resolveCredentials picks the credential source: the environment when the
// access key is set there, else the instance's RAM role read from the
// metadata service at base. It fetches once so that missing or broken
// credentials fail before anything is changed.
//
// The SDK's own ECS RAM role provider hard-codes the metadata address, so
// vpcroute reads the role through its configurable metadata endpoint.
func resolveCredentials(ctx context.Context, md *metadataClient, roleName string) (credentials.CredentialsProvider, error) {
	id, secret := os.Getenv(envAccessKeyID), os.Getenv(envAccessKeySecret)
	switch {
	case id != "" && secret != "":
		p := credentials.NewEnvironmentVariableCredentialsProvider()
		if _, err := p.GetCredentials(); err != nil {
			return nil, cloud.RedactError(fmt.Errorf("credentials from environment: %w", err))
		}
		return p, nil
	case id != "" || secret != "":
		return nil, fmt.Errorf("credentials: %s and %s must be set together", envAccessKeyID, envAccessKeySecret)
	}
	p := &ramRoleProvider{md: md, role: roleName}
	if _, err := p.fetch(ctx); err != nil {
		return nil, cloud.RedactError(fmt.Errorf("%w (RAM role: %v)", errNoCredentials, err))
	}
	return p, nil
}

// ramRoleProvider serves the STS credentials of the instance's RAM role and
// refreshes them before they expire.
type ramRoleProvider struct {
	md   *metadataClient
	role string

	mu      sync.Mutex
	cached  *credentials.Credentials
	expires time.Time
}

// ramCredentials is the metadata service's answer for a role.
type ramCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken"`
	Expiration      string `json:"Expiration"`
	Code            string `json:"Code"`
}

// GetCredentials implements credentials.CredentialsProvider.
func (p *ramRoleProvider) GetCredentials() (*credentials.Credentials, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.fetch(ctx)
}

// GetProviderName implements credentials.CredentialsProvider.
func (p *ramRoleProvider) GetProviderName() string { return "vpcroute_ecs_ram_role" }

func (p *ramRoleProvider) fetch(ctx context.Context) (*credentials.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Refresh five minutes early so a long reconcile never signs with an
	// expired token.
	if p.cached != nil && time.Until(p.expires) > 5*time.Minute {
		return p.cached, nil
	}
	token := p.md.token(ctx)
	role := p.role
	if role == "" {
		list, err := p.md.get(ctx, token, "ram/security-credentials/")
		if err != nil {
			return nil, err
		}
		role = strings.TrimSpace(strings.Split(list, "\n")[0])
		if role == "" {
			return nil, errors.New("the instance has no RAM role")
		}
	}
	body, err := p.md.get(ctx, token, "ram/security-credentials/"+role)
	if err != nil {
		return nil, err
	}
	var rc ramCredentials
	if err := json.Unmarshal([]byte(body), &rc); err != nil {
		return nil, fmt.Errorf("RAM role %s: credentials are not JSON: %w", role, err)
	}
	if rc.Code != "" && rc.Code != "Success" {
		return nil, fmt.Errorf("RAM role %s: metadata answered code %q", role, rc.Code)
	}
	if rc.AccessKeyID == "" || rc.AccessKeySecret == "" || rc.SecurityToken == "" {
		return nil, fmt.Errorf("RAM role %s: incomplete credentials", role)
	}
	expires, err := time.Parse(time.RFC3339, rc.Expiration)
	if err != nil {
		expires = time.Now().Add(15 * time.Minute)
	}
	p.cached = &credentials.Credentials{
		AccessKeyId: rc.AccessKeyID, AccessKeySecret: rc.AccessKeySecret,
		SecurityToken: rc.SecurityToken, ProviderName: p.GetProviderName(),
	}
	p.expires = expires
	return p.cached, nil
}
