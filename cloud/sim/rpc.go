package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// actionClasses lists every RPC action served and its class.
var actionClasses = map[string]string{
	"DescribeVpcs":           classRead,
	"DescribeVSwitches":      classRead,
	"DescribeRouteTableList": classRead,
	"DescribeRouteEntryList": classRead,
	"DescribeInstances":      classRead,
	"CreateRouteEntry":       classWrite,
	"CreateRouteEntries":     classWrite,
	"DeleteRouteEntry":       classWrite,
	"DeleteRouteEntries":     classWrite,
	"ModifyRouteEntry":       classWrite,
}

func actionClass(action string) string {
	if c, ok := actionClasses[action]; ok {
		return c
	}
	return classOther
}

// errDropConnection tells serveRPC to abort the connection.
var errDropConnection = &apiError{Code: outcomeTransportError}

// dispatch runs an action against the world.
func (s *Server) dispatch(action string, p params) (any, *apiError) {
	switch action {
	case "DescribeVpcs":
		return s.describeVpcs(p)
	case "DescribeVSwitches":
		return s.describeVSwitches(p)
	case "DescribeRouteTableList":
		return s.describeRouteTableList(p)
	case "DescribeRouteEntryList":
		return s.describeRouteEntryList(p)
	case "DescribeInstances":
		return s.describeInstances(p)
	case "CreateRouteEntry":
		return s.createRouteEntry(p)
	case "CreateRouteEntries":
		return s.createRouteEntries(p)
	case "DeleteRouteEntry":
		return s.deleteRouteEntry(p)
	case "DeleteRouteEntries":
		return s.deleteRouteEntries(p)
	case "ModifyRouteEntry":
		return s.modifyRouteEntry(p)
	}
	return nil, notFound(CodeInvalidAction, "Specified api %q is not found, please check your url and method.", action)
}

// serveRPC answers an Alibaba RPC call. Parameters may come in the query
// string, a form body, or both (the SDK puts them in the query).
func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	requestID := s.newRequestID()
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, requestID, badRequest(CodeInvalidParameter, "The request parameters cannot be parsed: %v.", err))
		return
	}
	p := params{r.Form}
	action := p.Get("Action")
	class := actionClass(action)
	resp, aerr := s.callRPC(r, action, class, p)
	outcome := outcomeOK
	if aerr != nil {
		outcome = aerr.Code
	}
	counted := action
	if counted == "" {
		counted = "(missing)"
	}
	s.record(counted, class, outcome)
	s.log.Debug("rpc call", zap.String("action", action), zap.String("outcome", outcome),
		zap.String("accessKeyId", p.Get("AccessKeyId")), zap.String("remote", r.RemoteAddr))
	switch {
	case aerr == errDropConnection:
		// net/http closes the connection without logging for this panic.
		panic(http.ErrAbortHandler)
	case aerr != nil:
		s.writeError(w, r, requestID, aerr)
	default:
		if class == classWrite {
			s.SyncDataplane()
		}
		s.writeJSON(w, http.StatusOK, withRequestID(resp, requestID))
	}
}

func (s *Server) callRPC(r *http.Request, action, class string, p params) (any, *apiError) {
	s.mu.Lock()
	latency, region := s.beh.latency, s.w.region
	s.mu.Unlock()
	if err := sleep(r.Context(), latency); err != nil {
		return nil, errDropConnection
	}
	if action == "" {
		return nil, missingParam("Action")
	}
	if class == classOther {
		return nil, notFound(CodeInvalidAction, "Specified api %q is not found, please check your url and method.", action)
	}
	if aerr := s.authenticate(r.Method, p.Values); aerr != nil {
		return nil, aerr
	}
	if got := p.Get("RegionId"); got != region {
		if got == "" {
			return nil, missingParam("RegionId")
		}
		return nil, notFound(CodeInvalidRegion, "The specified RegionId %q does not exist: this simulator serves region %s.", got, region)
	}
	if aerr := s.admit(class); aerr != nil {
		return nil, aerr
	}
	if f, ok := s.fault(action); ok {
		if err := sleep(r.Context(), f.delay()); err != nil || f.Close {
			return nil, errDropConnection
		}
		msg := f.Message
		if msg == "" {
			msg = "Injected fault " + f.Code + " (vpcroute-sim)."
		}
		return nil, &apiError{Status: f.status(), Code: f.Code, Message: msg}
	}
	if aerr := checkParams(action, p); aerr != nil {
		return nil, aerr
	}
	return s.dispatch(action, p)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, requestID string, aerr *apiError) {
	s.writeJSON(w, aerr.Status, errorBody{RequestID: requestID, HostID: r.Host, Code: aerr.Code,
		Message: aerr.Message, Recommend: defaultRecommendationMessage})
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode response", zap.Error(err))
		status = http.StatusInternalServerError
		body = []byte(`{"RequestId":"","HostId":"","Code":"InternalError","Message":"The simulator failed to encode its answer.","Recommend":""}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	if _, err := w.Write(body); err != nil {
		s.log.Debug("write response", zap.Error(err))
	}
}

// withRequestID sets the RequestId field every response struct carries.
func withRequestID(resp any, id string) any {
	if r, ok := resp.(interface{ setRequestID(string) }); ok {
		r.setRequestID(id)
	}
	return resp
}

// base is embedded in every response.
type base struct {
	RequestID string `json:"RequestId"`
}

func (b *base) setRequestID(id string) { b.RequestID = id }

// params wraps the call's parameters.
type params struct{ url.Values }

// intParam reads an optional integer in [lo, hi].
func (p params) intParam(name string, def, lo, hi int) (int, *apiError) {
	v := p.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalidParam(name, v, "an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

// page reads PageNumber/PageSize and returns the slice bounds for n items.
func (p params) page(n, defSize, maxSize int) (number, size, lo, hi int, aerr *apiError) {
	if number, aerr = p.intParam("PageNumber", 1, 1, 1<<30); aerr != nil {
		return
	}
	if size, aerr = p.intParam("PageSize", defSize, 1, maxSize); aerr != nil {
		return
	}
	lo = min((number-1)*size, n)
	hi = min(lo+size, n)
	return
}
