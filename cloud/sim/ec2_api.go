package sim

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"go.uber.org/zap"
)

// The EC2 Query API: POST form bodies (Action=...&Version=2016-11-15&...),
// SigV4-signed, answered with XML in the EC2 namespace. Errors are
// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
// with the HTTP status EC2 uses for the code.

const (
	ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
	// EC2APIVersion is the Query API version the simulator serves.
	EC2APIVersion = "2016-11-15"
	maxEC2Body    = 1 << 20
)

// ec2ActionClasses lists every EC2 action served: Describe* are
// non-mutating (reads), the rest mutating (writes), as EC2's throttling
// buckets split them.
var ec2ActionClasses = map[string]string{
	"DescribeVpcs":                      classRead,
	"DescribeSubnets":                   classRead,
	"DescribeRouteTables":               classRead,
	"DescribeInstances":                 classRead,
	"DescribeNetworkInterfaces":         classRead,
	"DescribeNetworkInterfaceAttribute": classRead,
	"CreateRoute":                       classWrite,
	"ReplaceRoute":                      classWrite,
	"DeleteRoute":                       classWrite,
	"ModifyNetworkInterfaceAttribute":   classWrite,
	"CreateTags":                        classWrite,
}

func ec2ActionClass(action string) string {
	if c, ok := ec2ActionClasses[action]; ok {
		return c
	}
	return classOther
}

func (s *Server) dispatchEC2(action string, p params) (any, *apiError) {
	switch action {
	case "DescribeVpcs":
		return s.ec2DescribeVpcs(p)
	case "DescribeSubnets":
		return s.ec2DescribeSubnets(p)
	case "DescribeRouteTables":
		return s.ec2DescribeRouteTables(p)
	case "DescribeInstances":
		return s.ec2DescribeInstances(p)
	case "DescribeNetworkInterfaces":
		return s.ec2DescribeNetworkInterfaces(p)
	case "DescribeNetworkInterfaceAttribute":
		return s.ec2DescribeENIAttribute(p)
	case "CreateRoute":
		return s.ec2CreateRoute(p)
	case "ReplaceRoute":
		return s.ec2ReplaceRoute(p)
	case "DeleteRoute":
		return s.ec2DeleteRoute(p)
	case "ModifyNetworkInterfaceAttribute":
		return s.ec2ModifyENIAttribute(p)
	case "CreateTags":
		return s.ec2CreateTags(p)
	}
	return nil, ec2Err(CodeInvalidEC2Action, "The action %s is not valid for this web service.", action)
}

// serveEC2 answers an EC2 Query API call.
func (s *Server) serveEC2(w http.ResponseWriter, r *http.Request) {
	requestID := s.newEC2RequestID()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEC2Body+1))
	if err != nil || len(body) > maxEC2Body {
		s.writeEC2Error(w, requestID, ec2Err(CodeInvalidParameterValue, "The request body cannot be read or exceeds %d bytes.", maxEC2Body))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.writeEC2Error(w, requestID, ec2Err(CodeInvalidParameterValue, "The request body is not a URL-encoded form: %v.", err))
		return
	}
	for k, v := range r.URL.Query() {
		form[k] = append(form[k], v...)
	}
	p := params{form}
	action := p.Get("Action")
	class := ec2ActionClass(action)
	resp, aerr := s.callEC2(r, body, action, class, p)
	outcome := outcomeOK
	if aerr != nil {
		outcome = aerr.Code
	}
	counted := action
	if counted == "" {
		counted = "(missing)"
	}
	s.record(counted, class, outcome)
	s.log.Debug("ec2 call", zap.String("action", action), zap.String("outcome", outcome), zap.String("remote", r.RemoteAddr))
	switch {
	case aerr == errDropConnection:
		panic(http.ErrAbortHandler)
	case aerr != nil:
		s.writeEC2Error(w, requestID, aerr)
	default:
		if class == classWrite {
			s.SyncDataplane()
		}
		s.writeEC2(w, http.StatusOK, requestID, withRequestID(resp, requestID))
	}
}

func (s *Server) callEC2(r *http.Request, body []byte, action, class string, p params) (any, *apiError) {
	s.mu.Lock()
	latency := s.beh.latency
	s.mu.Unlock()
	if err := sleep(r.Context(), latency); err != nil {
		return nil, errDropConnection
	}
	if action == "" {
		return nil, ec2Err(CodeMissingAction, "The request must contain the parameter Action.")
	}
	if class == classOther {
		return nil, ec2Err(CodeInvalidEC2Action, "The action %s is not valid for this web service.", action)
	}
	if aerr := s.authenticateEC2(r, body); aerr != nil {
		return nil, aerr
	}
	if v := p.Get("Version"); v != EC2APIVersion {
		if v == "" {
			return nil, ec2Missing("Version")
		}
		return nil, ec2Invalid("Version", v, EC2APIVersion)
	}
	if !s.take(class) {
		return nil, ec2Err(CodeRequestLimitExceeded, "Request limit exceeded.")
	}
	if f, ok := s.fault(action); ok {
		if err := sleep(r.Context(), f.delay()); err != nil || f.Close {
			return nil, errDropConnection
		}
		msg := f.Message
		if msg == "" {
			msg = "Injected fault " + f.Code + " (vpcroute-sim)."
		}
		status := f.HTTPStatus
		if status == 0 {
			status = ec2Status(f.Code)
		}
		return nil, &apiError{Status: status, Code: f.Code, Message: msg}
	}
	if p.Get("DryRun") == "true" {
		return nil, ec2Err(CodeDryRunOperation, "Request would have succeeded, but DryRun flag is set.")
	}
	return s.dispatchEC2(action, p)
}

func (s *Server) newEC2RequestID() string {
	n := s.reqSeq.Add(1)
	return fmt.Sprintf("5e1a0c0d-%04x-4000-8000-%012x", uint16(n>>48), n&0xFFFFFFFFFFFF)
}

func (s *Server) writeEC2Error(w http.ResponseWriter, requestID string, aerr *apiError) {
	s.writeEC2(w, aerr.Status, requestID, ec2ErrorBody{Code: aerr.Code, Message: aerr.Message, RequestID: requestID})
}

func (s *Server) writeEC2(w http.ResponseWriter, status int, requestID string, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		s.log.Error("encode EC2 response", zap.Error(err))
		status = http.StatusInternalServerError
		// A struct of strings always encodes.
		body, _ = xml.Marshal(ec2ErrorBody{Code: "InternalError", Message: "The simulator failed to encode its answer.", RequestID: requestID})
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(status)
	if _, err := w.Write(append([]byte(xml.Header), body...)); err != nil {
		s.log.Debug("write EC2 response", zap.Error(err))
	}
}

// ec2Base is embedded in every EC2 response.
type ec2Base struct {
	RequestID string `xml:"requestId"`
}

func (b *ec2Base) setRequestID(id string) { b.RequestID = id }

// returnResponse is the answer of the actions that only say "true".
type returnResponse struct {
	XMLName xml.Name
	ec2Base
	Return bool `xml:"return"`
}

func trueResponse(action string) *returnResponse {
	return &returnResponse{XMLName: xml.Name{Space: ec2Namespace, Local: action + "Response"}, Return: true}
}
