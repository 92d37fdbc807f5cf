package aws

import (
	"context"
	"fmt"
	"time"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/internal/textline"
)

// loadConfig builds the SDK configuration: the default credential chain
// (environment, shared config and credentials files, web identity, SSO,
// container role, then the instance role), with the instance role read
// through md, the IMDS client on the configured metadata endpoint. The
// SDK would otherwise build its own client on the default address.
//
// Credentials are fetched once here, so that missing or broken ones fail
// before anything is changed. They are never logged: the SDK's client
// logging stays off and errors name the source, never a value.
func loadConfig(ctx context.Context, region string, md *imds.Client, opts Options) (awsv2.Config, error) {
	var hc config.HTTPClient = awshttp.NewBuildableClient().WithTimeout(opts.CallTimeout)
	if opts.httpClient != nil {
		hc = opts.httpClient
	}
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithHTTPClient(hc),
		config.WithEC2RoleCredentialOptions(func(o *ec2rolecreds.Options) { o.Client = md }),
	)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %s", cloud.Redact(textline.Join(err.Error(), " ")))
	}
	if cfg.Credentials == nil {
		return cfg, fmt.Errorf("no AWS credentials: %s", credentialHelp)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return cfg, fmt.Errorf("no AWS credentials: %s (%s)", credentialHelp, cloud.Redact(textline.Join(err.Error(), " ")))
	}
	return cfg, nil
}

// credentialHelp says where credentials come from.
const credentialHelp = "attach an instance profile (IAM role) to the instance, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
