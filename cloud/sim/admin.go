package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// adminPrefix is the root of the simulator's own API (see doc.go).
const adminPrefix = "/sim/v1/"

// maxAdminBody bounds admin request bodies.
const maxAdminBody = 1 << 20

// serveAdmin routes /sim/v1/... requests.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, adminPrefix)
	if rest, ok := strings.CutPrefix(path, "instances/"); ok {
		if id, sub, ok := strings.Cut(rest, "/"); ok && strings.HasPrefix("/"+sub, "/latest/") {
			s.serveMetadata(w, r, id, "/"+sub)
			return
		}
	}
	route := r.Method + " " + path
	switch {
	case route == "GET healthz":
		s.adminJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case route == "GET stats":
		s.adminJSON(w, http.StatusOK, s.Stats())
	case route == "POST stats/reset":
		s.ResetStats()
		s.adminJSON(w, http.StatusOK, s.Stats())
	case route == "GET routes":
		s.adminJSON(w, http.StatusOK, map[string]any{"region": s.Region(), "tables": s.Routes()})
	case route == "POST routes":
		var req PutRouteRequest
		if s.decode(w, r, &req) {
			e, err := s.PutRoute(req)
			s.adminResult(w, e, err)
		}
	case route == "DELETE routes":
		q := r.URL.Query()
		err := s.DeleteRoute(q.Get("table"), q.Get("destination"))
		s.adminResult(w, map[string]string{"deleted": q.Get("destination")}, err)
	case route == "POST settle":
		s.Settle()
		s.adminJSON(w, http.StatusOK, map[string]any{"tables": s.Routes()})
	case route == "GET instances":
		s.adminJSON(w, http.StatusOK, s.Instances())
	case route == "POST instances":
		var spec InstanceSpec
		if s.decode(w, r, &spec) {
			s.adminResult(w, spec, s.AddInstance(spec))
		}
	case r.Method == http.MethodPost && strings.HasPrefix(path, "instances/"):
		id := strings.TrimPrefix(path, "instances/")
		var req InstanceStateRequest
		if s.decode(w, r, &req) {
			s.adminResult(w, map[string]string{"instance": id, "state": req.State}, s.SetInstanceState(id, req.State))
		}
	case r.Method == http.MethodDelete && strings.HasPrefix(path, "instances/"):
		id := strings.TrimPrefix(path, "instances/")
		del, _ := strconv.ParseBool(r.URL.Query().Get("deleteRoutes"))
		s.adminResult(w, map[string]string{"removed": id}, s.RemoveInstance(id, del))
	case route == "GET faults":
		s.adminJSON(w, http.StatusOK, s.Faults())
	case route == "POST faults":
		s.postFaults(w, r)
	case route == "DELETE faults":
		s.ClearFaults()
		s.adminJSON(w, http.StatusOK, s.Faults())
	case route == "GET behaviour":
		s.adminJSON(w, http.StatusOK, s.Behaviour())
	case route == "POST behaviour":
		b := s.Behaviour()
		if s.decode(w, r, &b) {
			s.adminResult(w, b, s.SetBehaviour(b))
		}
	case route == "GET dataplane":
		st, err := s.Dataplane()
		s.adminResult(w, st, err)
	default:
		s.adminError(w, http.StatusNotFound, fmt.Errorf("no admin endpoint %s %s; see the package documentation of cloud/sim", r.Method, r.URL.Path))
	}
}

// postFaults accepts one rule or an array of rules; all are validated
// before any is added.
func (s *Server) postFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody))
	if err != nil {
		s.adminError(w, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
		return
	}
	var rules []FaultRule
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		err = strictJSON(trimmed, &rules)
	} else {
		var one FaultRule
		err = strictJSON(trimmed, &one)
		rules = []FaultRule{one}
	}
	if err != nil {
		s.adminError(w, http.StatusBadRequest, err)
		return
	}
	for i, f := range rules {
		if err := f.validate(fmt.Sprintf("faults[%d]", i), s.w.d); err != nil {
			s.adminError(w, http.StatusBadRequest, err)
			return
		}
	}
	for _, f := range rules {
		if err := s.AddFault(f); err != nil {
			s.adminError(w, http.StatusBadRequest, err)
			return
		}
	}
	s.adminJSON(w, http.StatusOK, s.Faults())
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode JSON body: %w", err)
	}
	return nil
}

// decode reads a strict JSON body into v, answering 400 on failure.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody))
	if err == nil {
		err = strictJSON(body, v)
	}
	if err != nil {
		s.adminError(w, http.StatusBadRequest, err)
		return false
	}
	return true
}

// adminResult answers v, or the error: 404 for ErrNotFound, 400 otherwise.
func (s *Server) adminResult(w http.ResponseWriter, v any, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		s.adminError(w, http.StatusNotFound, err)
	case err != nil:
		s.adminError(w, http.StatusBadRequest, err)
	default:
		s.adminJSON(w, http.StatusOK, v)
	}
}

func (s *Server) adminError(w http.ResponseWriter, status int, err error) {
	s.adminJSON(w, status, map[string]string{"error": err.Error()})
}

func (s *Server) adminJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if _, err := w.Write(append(body, '\n')); err != nil {
		s.log.Debug("write admin answer", zap.Error(err))
	}
}
