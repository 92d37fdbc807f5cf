package sim

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// IMDSv2 as a hardened EC2 fleet runs it (HttpTokens=required): PUT
// /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1-21600)
// returns a token and echoes the TTL header; every GET must carry the token
// in X-aws-ec2-metadata-token, else 401. Tokens belong to the instance they
// were issued for.

const (
	awsTokenTTLHeader = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	awsTokenHeader    = "X-Aws-Ec2-Metadata-Token"
	maxTokenTTL       = 21600
)

type imdsToken struct {
	instance string
	expires  time.Time
}

// serveIMDS answers path (starting with /latest/) for instance id.
func (s *Server) serveIMDS(w http.ResponseWriter, r *http.Request, id, path string) {
	if path == tokenPath {
		s.serveIMDSToken(w, r, id)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		imdsText(w, http.StatusMethodNotAllowed, "metadata: method "+r.Method+" not allowed; expected GET")
		return
	}
	tok := r.Header.Get(awsTokenHeader)
	s.mu.Lock()
	t, ok := s.imdsTokens[tok]
	s.mu.Unlock()
	if tok == "" || !ok || t.instance != id || time.Now().After(t.expires) {
		// IMDSv1 is disabled: no (valid) token, no answer.
		imdsText(w, http.StatusUnauthorized, "")
		return
	}
	body, status, isJSON := s.imdsValue(id, strings.TrimPrefix(path, "/latest/"))
	if isJSON && status == http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/plain")
	}
	w.WriteHeader(status)
	if _, err := w.Write([]byte(body)); err != nil {
		s.log.Debug("write metadata", zap.Error(err))
	}
}

func (s *Server) serveIMDSToken(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method != http.MethodPut {
		imdsText(w, http.StatusMethodNotAllowed, "metadata: expected PUT for "+tokenPath)
		return
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		// IMDSv2 refuses proxied token requests.
		imdsText(w, http.StatusForbidden, "metadata: token requests with X-Forwarded-For are refused")
		return
	}
	raw := r.Header.Get(awsTokenTTLHeader)
	ttl, err := strconv.Atoi(raw)
	if err != nil || ttl < 1 || ttl > maxTokenTTL {
		imdsText(w, http.StatusBadRequest, "metadata: header "+awsTokenTTLHeader+"="+strconv.Quote(raw)+": expected 1 to 21600 seconds")
		return
	}
	s.mu.Lock()
	known := s.w.instance(id) != nil
	s.mu.Unlock()
	if !known {
		imdsText(w, http.StatusNotFound, "metadata: unknown instance "+id)
		return
	}
	tok, err := randomHex(24)
	if err != nil {
		imdsText(w, http.StatusInternalServerError, err.Error())
		return
	}
	tok = "AQAE" + tok
	now := time.Now()
	s.mu.Lock()
	for k, t := range s.imdsTokens {
		if now.After(t.expires) {
			delete(s.imdsTokens, k)
		}
	}
	s.imdsTokens[tok] = imdsToken{instance: id, expires: now.Add(time.Duration(ttl) * time.Second)}
	s.mu.Unlock()
	w.Header().Set(awsTokenTTLHeader, strconv.Itoa(ttl))
	imdsText(w, http.StatusOK, tok)
}

func imdsText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // the client went away; nothing to do
}

// imdsValue resolves a path below /latest/ for an instance: the body, the
// status and whether the body is JSON.
func (s *Server) imdsValue(id, path string) (string, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.w.instance(id)
	if in == nil || in.status == EC2Terminated {
		return "metadata: unknown instance " + id, http.StatusNotFound, false
	}
	sub := s.w.vswitch(in.vswitch)
	clean := strings.TrimSuffix(path, "/")
	if rest, ok := strings.CutPrefix(clean, "meta-data/network/interfaces/macs/"); ok {
		return s.imdsENI(in, rest)
	}
	if role, ok := strings.CutPrefix(clean, "meta-data/iam/security-credentials/"); ok {
		if in.ramRole == "" || role != in.ramRole {
			return "metadata: instance " + in.id + " has no IAM role " + role, http.StatusNotFound, false
		}
		c, err := s.roleCredential(in)
		if err != nil {
			return err.Error(), http.StatusInternalServerError, false
		}
		return marshalDoc(c.awsDoc())
	}
	var macs []string
	for _, n := range s.w.enisOf(in.id) {
		macs = append(macs, n.mac+"/")
	}
	switch clean {
	case "meta-data":
		list := "ami-id\nhostname\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/\nplacement/\n"
		if in.ramRole != "" {
			list += "iam/\n"
		}
		return list, http.StatusOK, false
	case "meta-data/ami-id":
		return "ami-0" + hashHex("ami", 16), http.StatusOK, false
	case "meta-data/instance-id":
		return in.id, http.StatusOK, false
	case "meta-data/instance-type":
		return in.instanceType, http.StatusOK, false
	case "meta-data/local-ipv4":
		return in.ip.String(), http.StatusOK, false
	case "meta-data/hostname", "meta-data/local-hostname":
		return s.w.privateDNS(in.ip.String()), http.StatusOK, false
	case "meta-data/mac":
		return in.mac, http.StatusOK, false
	case "meta-data/placement":
		return "availability-zone\navailability-zone-id\nregion\n", http.StatusOK, false
	case "meta-data/placement/region":
		return s.w.region, http.StatusOK, false
	case "meta-data/placement/availability-zone":
		return sub.zone, http.StatusOK, false
	case "meta-data/placement/availability-zone-id":
		return zoneID(sub.zone), http.StatusOK, false
	case "meta-data/network":
		return "interfaces/", http.StatusOK, false
	case "meta-data/network/interfaces":
		return "macs/", http.StatusOK, false
	case "meta-data/network/interfaces/macs":
		return strings.Join(macs, "\n"), http.StatusOK, false
	case "meta-data/iam":
		if in.ramRole != "" {
			return "info\nsecurity-credentials/", http.StatusOK, false
		}
	case "meta-data/iam/info":
		if in.ramRole != "" {
			return marshalDoc(map[string]string{"Code": "Success", "LastUpdated": time.Now().UTC().Format(stsTimeFormat),
				"InstanceProfileArn": "arn:aws:iam::" + s.w.account + ":instance-profile/" + in.ramRole,
				"InstanceProfileId":  "AIPA" + strings.ToUpper(hashHex("profile/"+in.ramRole, 17))})
		}
	case "meta-data/iam/security-credentials":
		if in.ramRole != "" {
			return in.ramRole, http.StatusOK, false
		}
	case "dynamic":
		return "instance-identity/", http.StatusOK, false
	case "dynamic/instance-identity":
		return "document", http.StatusOK, false
	case "dynamic/instance-identity/document":
		return marshalDoc(map[string]any{"accountId": s.w.account, "architecture": "x86_64", "availabilityZone": sub.zone,
			"billingProducts": nil, "devpayProductCodes": nil, "marketplaceProductCodes": nil, "imageId": "ami-0" + hashHex("ami", 16),
			"instanceId": in.id, "instanceType": in.instanceType, "kernelId": nil, "pendingTime": in.created.Format(time.RFC3339),
			"privateIp": in.ip.String(), "ramdiskId": nil, "region": s.w.region, "version": "2017-09-30"})
	}
	return "metadata: no such path /latest/" + path, http.StatusNotFound, false
}

// imdsENI answers network/interfaces/macs/<mac>[/<field>]. Callers hold
// s.mu.
func (s *Server) imdsENI(in *instance, rest string) (string, int, bool) {
	mac, field, _ := strings.Cut(rest, "/")
	enis := s.w.enisOf(in.id)
	i := slices.IndexFunc(enis, func(n *eni) bool { return n.mac == mac })
	if i < 0 {
		return "metadata: instance " + in.id + " has no interface with MAC " + mac, http.StatusNotFound, false
	}
	n := enis[i]
	sub, v := s.w.vswitch(n.subnet), s.w.vpc(n.vpc)
	cidrs := collect(v.cidrs(), func(c netip.Prefix) string { return c.String() })
	values := map[string]string{
		"device-number":          strconv.Itoa(n.deviceIndex),
		"interface-id":           n.id,
		"local-hostname":         s.w.privateDNS(n.ip.String()),
		"local-ipv4s":            n.ip.String(),
		"mac":                    n.mac,
		"owner-id":               s.w.account,
		"subnet-id":              n.subnet,
		"subnet-ipv4-cidr-block": sub.cidr.String(),
		"vpc-id":                 n.vpc,
		"vpc-ipv4-cidr-block":    v.cidr.String(),
		"vpc-ipv4-cidr-blocks":   strings.Join(cidrs, "\n"),
	}
	if field == "" {
		keys := slices.Sorted(maps.Keys(values))
		return strings.Join(keys, "\n"), http.StatusOK, false
	}
	if val, ok := values[field]; ok {
		return val, http.StatusOK, false
	}
	return "metadata: no such path " + rest, http.StatusNotFound, false
}

func marshalDoc(v any) (string, int, bool) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error(), http.StatusInternalServerError, false
	}
	return string(b), http.StatusOK, true
}

// awsCredentialDoc is the document of
// /latest/meta-data/iam/security-credentials/<role> that aws-sdk-go-v2's
// ec2rolecreds provider parses.
type awsCredentialDoc struct {
	Code            string `json:"Code"`
	LastUpdated     string `json:"LastUpdated"`
	Type            string `json:"Type"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

func (c *credential) awsDoc() awsCredentialDoc {
	return awsCredentialDoc{Code: "Success", LastUpdated: c.updated.UTC().Format(stsTimeFormat), Type: "AWS-HMAC",
		AccessKeyID: c.id, SecretAccessKey: c.secret, Token: c.token, Expiration: c.expires.UTC().Format(stsTimeFormat)}
}
