package kafka

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// api is one served API key: the versions ApiVersions advertises and the
// handler. A handler may serve fewer versions than advertised (Produce
// v0-v2) by answering them with UNSUPPORTED_VERSION itself.
type api struct {
	min, max int16
	handle   func(*Server, *request) (response, error)
}

// apis routes API keys to their handlers, one file per key. A key missing
// here is not served: a request for it closes the connection.
var apis map[int16]api

func init() {
	apis = map[int16]api{
		0:  {0, 11, (*Server).handleProduce},
		1:  {4, 12, (*Server).handleFetch},
		2:  {0, 6, (*Server).handleListOffsets},
		3:  {0, 12, (*Server).handleMetadata},
		8:  {0, groupMax(8), (*Server).handleOffsetCommit},
		9:  {0, groupMax(9), (*Server).handleOffsetFetch},
		10: {0, 4, (*Server).handleFindCoordinator},
		11: {0, groupMax(11), (*Server).handleJoinGroup},
		12: {0, groupMax(12), (*Server).handleHeartbeat},
		13: {0, groupMax(13), (*Server).handleLeaveGroup},
		14: {0, groupMax(14), (*Server).handleSyncGroup},
		15: {0, groupMax(15), (*Server).handleDescribeGroups},
		16: {0, groupMax(16), (*Server).handleListGroups},
		18: {0, 4, (*Server).handleAPIVersions},
		19: {0, 7, (*Server).handleCreateTopics},
		20: {0, 6, (*Server).handleDeleteTopics},
		22: {0, 4, (*Server).handleInitProducerID},
	}
}

// request is one decoded request.
type request struct {
	c        *conn // nil when a request is handled off a connection (tests)
	key      int16
	version  int16
	corr     int32
	clientID string
	// kreq is the decoded body. It is nil only for an ApiVersions request
	// of a version above the highest served, which is answered with v0
	// (KIP-511) without decoding its body.
	kreq kmsg.Request
}

// response is what a handler answers. The zero value means no response at
// all (Produce with acks=0).
type response struct {
	corr  int32
	msg   kmsg.Response // encoded by the connection's writer
	fetch *fetchFrame   // a hand-encoded Fetch response; released after its write
}

func reply(msg kmsg.Response) (response, error) { return response{msg: msg}, nil }

func (r response) none() bool { return r.msg == nil && r.fetch == nil }

// errBadRequest marks errors that say a request could not be parsed or is
// not served; the connection is closed.
var errBadRequest = errors.New("kafka: bad request")

// parseRequest decodes one request (the bytes after its size prefix): the
// header (api key, version, correlation id, client id, and tagged fields if
// the version is flexible), then the body with kmsg. The body may alias
// b: b must not change until the request has been handled.
func parseRequest(b []byte) (*request, error) {
	rd := kbin.Reader{Src: b}
	r := &request{key: rd.Int16(), version: rd.Int16(), corr: rd.Int32()}
	cid := rd.NullableString()
	if !rd.Ok() {
		return nil, fmt.Errorf("%w: truncated header (%d bytes)", errBadRequest, len(b))
	}
	if cid != nil {
		r.clientID = *cid
	}
	a, ok := apis[r.key]
	if !ok {
		return r, fmt.Errorf("%w: api key %d not served", errBadRequest, r.key)
	}
	if r.key == 18 && r.version > a.max {
		return r, nil // KIP-511: answered with v0 and the ranges.
	}
	if r.version < a.min || r.version > a.max {
		return r, fmt.Errorf("%w: api key %d version %d not served (have %d-%d)", errBadRequest, r.key, r.version, a.min, a.max)
	}
	kreq := kmsg.RequestForKey(r.key)
	kreq.SetVersion(r.version)
	if kreq.IsFlexible() {
		kmsg.SkipTags(&rd)
		if !rd.Ok() {
			return r, fmt.Errorf("%w: truncated header tags", errBadRequest)
		}
	}
	if err := kreq.ReadFrom(rd.Src); err != nil {
		return r, fmt.Errorf("%w: api key %d version %d: decoding the body: %v", errBadRequest, r.key, r.version, err)
	}
	r.kreq = kreq
	return r, nil
}

// dispatch hands a parsed request to its handler. An error means the
// connection must be closed.
func (s *Server) dispatch(r *request) (response, error) {
	resp, err := apis[r.key].handle(s, r)
	resp.corr = r.corr
	return resp, err
}
