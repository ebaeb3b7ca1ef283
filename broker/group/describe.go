package group

import (
	"bytes"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeGroups, versions 0-5, and ListGroups, versions 0-5.
//
// DescribeGroups reports a group's state, protocol type and members (id,
// instance id, client id and host); only a Stable group also reports its
// protocol and each member's metadata and assignment, as Kafka does. A
// group the coordinator does not know is reported Dead, without error.
// ListGroups lists every group by name, with its protocol type, state
// (v4+, filterable, case-insensitively) and type "classic" (v5+,
// filterable).

// groupOps is the authorized-operations bit set reported when asked: READ,
// DELETE and DESCRIBE (there are no ACLs).
const groupOps = 1<<3 | 1<<6 | 1<<8

// describeGroups handles a DescribeGroups.
func (c *Coordinator) describeGroups(tok Token, req *kmsg.DescribeGroupsRequest) {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	defer c.reply(tok, resp)
	for _, name := range req.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = name
		dg.State = stateDead.String()
		if req.IncludeAuthorizedOperations {
			dg.AuthorizedOperations = groupOps
		}
		if g := c.group(name); g != nil {
			g.describe(&dg)
		}
		resp.Groups = append(resp.Groups, dg)
	}
}

// describe fills in a DescribeGroups answer.
func (g *group) describe(dg *kmsg.DescribeGroupsResponseGroup) {
	dg.State = g.state.String()
	dg.ProtocolType = g.protocolType
	stable := g.state == stateStable
	if stable {
		dg.Protocol = g.protocol
	}
	for _, m := range g.members {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID, dm.InstanceID = m.id, m.instanceID
		dm.ClientID, dm.ClientHost = m.clientID, m.clientHost
		if stable {
			dm.ProtocolMetadata = bytes.Clone(m.metadata(g.protocol))
			dm.MemberAssignment = bytes.Clone(m.assigned)
		}
		dg.Members = append(dg.Members, dm)
	}
}

// listGroups handles a ListGroups.
func (c *Coordinator) listGroups(tok Token, req *kmsg.ListGroupsRequest) {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	defer c.reply(tok, resp)
	for _, name := range c.names {
		g := c.groups[name]
		if !matches(req.StatesFilter, g.state.String()) || !matches(req.TypesFilter, "classic") {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = name, g.protocolType, g.state.String(), "classic"
		resp.Groups = append(resp.Groups, lg)
	}
}

// matches reports whether v passes a filter: empty, or holding v in any case.
func matches(filter []string, v string) bool {
	return len(filter) == 0 || slices.ContainsFunc(filter, func(f string) bool { return strings.EqualFold(f, v) })
}
