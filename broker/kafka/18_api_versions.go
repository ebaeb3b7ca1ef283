package kafka

// ApiVersions, versions 0-4.
//
// Advertises the table in dispatch.go. A request of a version above 4 is
// answered with v0, UNSUPPORTED_VERSION and the ranges, so the client can
// retry with a version we serve (KIP-511); its body is not decoded. The v3+
// client software name and version are not validated, and no features are
// advertised.

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (s *Server) handleAPIVersions(r *request) (response, error) {
	resp := kmsg.NewPtrApiVersionsResponse()
	if r.kreq == nil {
		resp.SetVersion(0)
		resp.ErrorCode = kerr.UnsupportedVersion.Code
	} else {
		resp.SetVersion(r.version)
	}
	keys := make([]int16, 0, len(apis))
	for k := range apis {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		a := apis[k]
		resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: a.min, MaxVersion: a.max})
	}
	return reply(resp)
}
