package sim

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// The ECS metadata service answers for the calling instance. On a routed
// address (the lab) the caller is the instance whose private IP is the
// request's source address; on loopback the caller names itself with the
// /sim/v1/instances/<id> prefix. Unknown callers get 404.

const (
	metaPrefix  = "/latest/meta-data/"
	credsPrefix = metaPrefix + "ram/security-credentials/"
	macsPrefix  = metaPrefix + "network/interfaces/macs/"
	tokenPath   = "/latest/api/token"
)

// serveMetadataByCaller identifies the caller by source address.
func (s *Server) serveMetadataByCaller(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	addr, perr := netip.ParseAddr(host)
	if err != nil || perr != nil {
		http.Error(w, "metadata: the caller has no IP address (unix socket?): use /sim/v1/instances/<id>/latest/...", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	in := s.w.d.instanceByIP(s.w, addr.Unmap())
	id := ""
	if in != nil {
		id = in.id
	}
	s.mu.Unlock()
	if in == nil {
		http.Error(w, "metadata: no instance has private IP "+addr.String(), http.StatusNotFound)
		return
	}
	s.serveMetadata(w, r, id, r.URL.Path)
}

// serveMetadata answers path (starting with /latest/) for instance id with
// the world's metadata service.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request, id, path string) {
	s.w.d.serveMetadata(s, w, r, id, path)
}

// serveECSMetadata is the ECS metadata service's answer to path for
// instance id.
func (s *Server) serveECSMetadata(w http.ResponseWriter, r *http.Request, id, path string) {
	if path == tokenPath {
		s.serveMetadataToken(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "metadata: method "+r.Method+" not allowed; expected GET", http.StatusMethodNotAllowed)
		return
	}
	body, status := s.metadataValue(id, path)
	if status == http.StatusOK && strings.HasPrefix(path, credsPrefix) && path != credsPrefix {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(status)
	if _, err := w.Write([]byte(body)); err != nil {
		s.log.Debug("write metadata", zap.Error(err))
	}
}

// serveMetadataToken hands out IMDSv2 tokens. Tokens are not enforced: the
// SDK falls back to plain GETs when it gets none, and so may callers.
func (s *Server) serveMetadataToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "metadata: expected PUT for "+tokenPath, http.StatusMethodNotAllowed)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get("X-aliyun-ecs-metadata-token-ttl-seconds"))
	if err != nil || ttl < 1 || ttl > 21600 {
		http.Error(w, "metadata: header X-aliyun-ecs-metadata-token-ttl-seconds must be 1 to 21600", http.StatusBadRequest)
		return
	}
	tok, err := randomHex(16)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if _, err := w.Write([]byte(tok)); err != nil {
		s.log.Debug("write metadata token", zap.Error(err))
	}
}

// metadataValue resolves a metadata path for an instance.
func (s *Server) metadataValue(id, path string) (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.w.instance(id)
	if in == nil {
		return "metadata: unknown instance " + id, http.StatusNotFound
	}
	vsw := s.w.vswitch(in.vswitch)
	v := s.w.vpc(in.vpc)
	values := map[string]string{
		"instance-id":        in.id,
		"region-id":          s.w.region,
		"zone-id":            vsw.zone,
		"vpc-id":             in.vpc,
		"vswitch-id":         in.vswitch,
		"private-ipv4":       in.ip.String(),
		"mac":                in.mac,
		"hostname":           in.name,
		"vpc-cidr-block":     v.cidr.String(),
		"vswitch-cidr-block": vsw.cidr.String(),
	}
	switch {
	case path == metaPrefix:
		return "instance-id\nregion-id\nzone-id\nvpc-id\nvswitch-id\nprivate-ipv4\nmac\nhostname\nvpc-cidr-block\nvswitch-cidr-block\nnetwork/\nram/\n", http.StatusOK
	case path == credsPrefix:
		if in.ramRole == "" {
			return "metadata: instance " + in.id + " has no RAM role", http.StatusNotFound
		}
		return in.ramRole, http.StatusOK
	case strings.HasPrefix(path, credsPrefix):
		role := strings.TrimPrefix(path, credsPrefix)
		if in.ramRole == "" || role != in.ramRole {
			return "metadata: instance " + in.id + " has no RAM role " + role, http.StatusNotFound
		}
		c, err := s.roleCredential(in)
		if err != nil {
			return err.Error(), http.StatusInternalServerError
		}
		doc, err := json.Marshal(c.doc())
		if err != nil {
			return err.Error(), http.StatusInternalServerError
		}
		return string(doc), http.StatusOK
	case path == macsPrefix:
		return in.mac + "/", http.StatusOK
	case strings.HasPrefix(path, macsPrefix+in.mac+"/"):
		eni := map[string]string{
			"network-interface-id": "eni-" + in.id,
			"vpc-id":               in.vpc,
			"vswitch-id":           in.vswitch,
			"primary-ip-address":   in.ip.String(),
			"vpc-cidr-block":       v.cidr.String(),
			"vswitch-cidr-block":   vsw.cidr.String(),
		}
		if val, ok := eni[strings.TrimPrefix(path, macsPrefix+in.mac+"/")]; ok {
			return val, http.StatusOK
		}
	case strings.HasPrefix(path, metaPrefix):
		if val, ok := values[strings.TrimPrefix(path, metaPrefix)]; ok {
			return val, http.StatusOK
		}
	}
	return "metadata: no such path " + path, http.StatusNotFound
}
