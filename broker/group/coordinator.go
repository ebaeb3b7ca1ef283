package group

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrUnsupported is returned by Handle for a request kind or version the
// coordinator does not serve; the server answers such requests itself.
var ErrUnsupported = errors.New("group: unsupported request")

// maxVersions is the highest version served per API key.
var maxVersions = map[int16]int16{
	kmsg.OffsetCommit.Int16():   8,
	kmsg.OffsetFetch.Int16():    8,
	kmsg.JoinGroup.Int16():      9,
	kmsg.Heartbeat.Int16():      4,
	kmsg.LeaveGroup.Int16():     5,
	kmsg.SyncGroup.Int16():      5,
	kmsg.DescribeGroups.Int16(): 5,
	kmsg.ListGroups.Int16():     5,
}

// MaxVersion reports the highest version of the API key that Handle serves
// (every version from 0 up to it), and whether Handle serves the key at all.
// The server advertises at most this in ApiVersions.
func MaxVersion(key int16) (max int16, ok bool) {
	max, ok = maxVersions[key]
	return max, ok
}

// Token identifies one request in flight. The server chooses it (say, a
// connection number and the correlation id) and gets it back in the Reply;
// the coordinator never interprets it.
type Token uint64

// Request is one decoded request and where it came from.
type Request struct {
	Token Token
	// ClientID is the request header's client id. It prefixes member ids
	// the coordinator assigns and shows in DescribeGroups.
	ClientID string
	// ClientHost is the client's address, shown in DescribeGroups.
	ClientHost string
	// Msg is the request; its Version selects the semantics and the
	// version of the response.
	Msg kmsg.Request
}

// Reply is a response ready to be sent for the request that carried Token.
type Reply struct {
	Token    Token
	Response kmsg.Response
}

// Ready is what one call to Handle or Tick produced. Append Records to the
// offsets log (as durably as the broker's flush policy promises) before
// sending Replies. Both slices belong to the caller.
type Ready struct {
	Records []OffsetRecord
	Replies []Reply
}

// Config configures a Coordinator. The zero value gives the defaults.
type Config struct {
	// MinSessionTimeout and MaxSessionTimeout bound the session timeout a
	// JoinGroup may ask for (Kafka's group.min.session.timeout.ms and
	// group.max.session.timeout.ms); outside them it gets
	// INVALID_SESSION_TIMEOUT. Defaults: 6 s and 30 min.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration

	// InitialRebalanceDelay (group.initial.rebalance.delay.ms) holds the
	// first rebalance of an Empty group open this long for more members
	// to arrive; each new member extends it by as much again, up to the
	// rebalance timeout. Default 0: the rebalance completes as soon as all
	// known members have joined. Kafka's default is 3 s.
	InitialRebalanceDelay time.Duration

	// MaxGroupSize (group.max.size) caps a group's members; a new member
	// beyond it gets GROUP_MAX_SIZE_REACHED. Default 0: no cap.
	MaxGroupSize int

	// MaxMetadataBytes (offset.metadata.max.bytes) caps a committed
	// offset's metadata; longer gets OFFSET_METADATA_TOO_LARGE.
	// Default 4096.
	MaxMetadataBytes int

	// MemberIDSalt goes into every member id the coordinator assigns, so
	// that ids from different runs of the broker never collide (Kafka uses
	// random UUIDs). Pass something unique per process start, such as the
	// start time in nanoseconds; tests pass a constant. Default 0.
	MemberIDSalt uint64
}

// withDefaults returns a copy of c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MinSessionTimeout == 0 {
		c.MinSessionTimeout = 6 * time.Second
	}
	if c.MaxSessionTimeout == 0 {
		c.MaxSessionTimeout = 30 * time.Minute
	}
	if c.MaxMetadataBytes == 0 {
		c.MaxMetadataBytes = 4096
	}
	return c
}

// validate reports a configuration that cannot work.
func (c Config) validate() error {
	switch {
	case c.MinSessionTimeout < 0 || c.MaxSessionTimeout < c.MinSessionTimeout:
		return fmt.Errorf("group: session timeout bounds [%v, %v] are empty", c.MinSessionTimeout, c.MaxSessionTimeout)
	case c.InitialRebalanceDelay < 0:
		return fmt.Errorf("group: negative InitialRebalanceDelay %v", c.InitialRebalanceDelay)
	case c.MaxGroupSize < 0 || c.MaxMetadataBytes < 0:
		return errors.New("group: negative MaxGroupSize or MaxMetadataBytes")
	}
	return nil
}

// Coordinator is the state machine: every group the broker coordinates and
// their committed offsets. Not safe for concurrent use.
type Coordinator struct {
	cfg    Config
	now    time.Duration
	groups map[string]*group
	names  []string // sorted keys of groups, for deterministic ticks
	nextID uint64   // member id counter
	out    Ready    // what the current call has produced so far
}

// New returns a Coordinator with no groups at time zero. cfg is copied.
func New(cfg Config) (*Coordinator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Coordinator{cfg: cfg, groups: make(map[string]*group)}, nil
}

// Now is the coordinator's current time: the latest Tick.
func (c *Coordinator) Now() time.Duration { return c.now }

// Handle processes one request and returns whatever is ready: possibly the
// reply to this request, possibly replies to earlier ones it released, and
// the offset records to persist first. It returns ErrUnsupported (wrapped)
// for a request kind or version it does not serve.
func (c *Coordinator) Handle(r Request) (Ready, error) {
	if r.Msg == nil {
		return Ready{}, fmt.Errorf("%w: no message", ErrUnsupported)
	}
	key, v := r.Msg.Key(), r.Msg.GetVersion()
	if max, ok := maxVersions[key]; !ok || v < 0 || v > max {
		return Ready{}, fmt.Errorf("%w: key %d version %d", ErrUnsupported, key, v)
	}
	switch req := r.Msg.(type) {
	case *kmsg.JoinGroupRequest:
		c.joinGroup(r, req)
	case *kmsg.SyncGroupRequest:
		c.syncGroup(r.Token, req)
	case *kmsg.HeartbeatRequest:
		c.heartbeat(r.Token, req)
	case *kmsg.LeaveGroupRequest:
		c.leaveGroup(r.Token, req)
	case *kmsg.OffsetCommitRequest:
		c.offsetCommit(r.Token, req)
	case *kmsg.OffsetFetchRequest:
		c.offsetFetch(r.Token, req)
	case *kmsg.DescribeGroupsRequest:
		c.describeGroups(r.Token, req)
	case *kmsg.ListGroupsRequest:
		c.listGroups(r.Token, req)
	default:
		return Ready{}, fmt.Errorf("%w: %T", ErrUnsupported, r.Msg)
	}
	return c.flush(), nil
}

// Tick moves time to now and fires every timeout that is due. A now before
// the current time is ignored (time never goes back) but still fires what
// is due.
func (c *Coordinator) Tick(now time.Duration) Ready {
	if now > c.now {
		c.now = now
	}
	for _, name := range slices.Clone(c.names) {
		if g := c.groups[name]; g != nil {
			c.expire(g)
		}
	}
	return c.flush()
}

// flush hands the accumulated output to the caller.
func (c *Coordinator) flush() Ready {
	rd := c.out
	c.out = Ready{}
	return rd
}

// reply queues resp for tok.
func (c *Coordinator) reply(tok Token, resp kmsg.Response) {
	c.out.Replies = append(c.out.Replies, Reply{Token: tok, Response: resp})
}

// record queues an offset record for the log.
func (c *Coordinator) record(rec OffsetRecord) {
	c.out.Records = append(c.out.Records, rec)
}

// group returns the named group, or nil.
func (c *Coordinator) group(name string) *group { return c.groups[name] }

// getOrCreate returns the named group, creating it Empty if needed.
func (c *Coordinator) getOrCreate(name string) *group {
	if g := c.groups[name]; g != nil {
		return g
	}
	g := newGroup(name)
	c.groups[name] = g
	i, _ := slices.BinarySearch(c.names, name)
	c.names = slices.Insert(c.names, i, name)
	return g
}

// maybeForget drops a group that holds nothing: Empty, no members waiting
// for a member id, no committed offsets.
func (c *Coordinator) maybeForget(g *group) {
	if g.state != stateEmpty || len(g.members) > 0 || len(g.pending) > 0 || len(g.offsets) > 0 {
		return
	}
	if c.groups[g.name] != g {
		return
	}
	delete(c.groups, g.name)
	if i, ok := slices.BinarySearch(c.names, g.name); ok {
		c.names = slices.Delete(c.names, i, i+1)
	}
}

// newMemberID returns a member id no other member of any run gets.
func (c *Coordinator) newMemberID(clientID string) string {
	c.nextID++
	return fmt.Sprintf("%s-%x-%d", clientID, c.cfg.MemberIDSalt, c.nextID)
}

// ms converts a protocol millisecond count to a Duration.
func ms(n int32) time.Duration { return time.Duration(n) * time.Millisecond }
