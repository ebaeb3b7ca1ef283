package kafka

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"gale/broker/seglog"
	"gale/broker/vfs"
)

// metaName is the file, in the data directory, that lists the topics.
const metaName = "meta.json"

// topic is one topic. It never changes once created: partition counts are
// fixed (CreatePartitions is not served), and deletion removes the whole
// topic from the registry before closing its logs.
type topic struct {
	name  string
	id    [16]byte
	parts []*seglog.Log
}

// meta is meta.json: the cluster id and every topic. The partition
// directories hold the data; meta.json says which of them are live topics.
type meta struct {
	ClusterID string      `json:"cluster_id"`
	Topics    []metaTopic `json:"topics"`
}

type metaTopic struct {
	Name       string `json:"name"`
	ID         string `json:"id"` // 32 hex digits
	Partitions int32  `json:"partitions"`
}

// partitionDir is the directory of one partition's log.
func (s *Server) partitionDir(name string, p int32) string {
	return filepath.Join(s.cfg.Dir, name+"-"+strconv.Itoa(int(p)))
}

// lookup returns the topic called name, or nil.
func (s *Server) lookup(name string) *topic {
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	return s.topics[name]
}

// lookupID returns the topic whose id is id, or nil.
func (s *Server) lookupID(id [16]byte) *topic {
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	return s.byID[id]
}

// partition returns the log of one partition, or the Kafka error that says
// why there is none.
func (s *Server) partition(name string, p int32) (*seglog.Log, *kerr.Error) {
	t := s.lookup(name)
	if t == nil || p < 0 || int(p) >= len(t.parts) {
		return nil, kerr.UnknownTopicOrPartition
	}
	return t.parts[p], nil
}

// sortedTopics returns every topic, sorted by name.
func (s *Server) sortedTopics() []*topic {
	s.tmu.RLock()
	ts := make([]*topic, 0, len(s.topics))
	for _, t := range s.topics {
		ts = append(ts, t)
	}
	s.tmu.RUnlock()
	slices.SortFunc(ts, func(a, b *topic) int { return strings.Compare(a.name, b.name) })
	return ts
}

// validTopicName reports why name cannot be a topic (Kafka's rules: 1 to 249
// characters of [a-zA-Z0-9._-], not "." or ".."), or nil.
func validTopicName(name string) error {
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("illegal topic name %q", name)
	}
	if len(name) > 249 {
		return fmt.Errorf("topic name longer than 249 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("topic name %q has an illegal character %q", name, c)
		}
	}
	return nil
}

// createTopic creates a topic of n partitions, or with validateOnly only
// checks that it could. It returns the Kafka error to report (nil on
// success), with a message.
func (s *Server) createTopic(name string, n int32, validateOnly bool) (*topic, *kerr.Error, string) {
	if err := validTopicName(name); err != nil {
		return nil, kerr.InvalidTopicException, err.Error()
	}
	if n < 1 || n > s.cfg.MaxPartitions {
		return nil, kerr.InvalidPartitions, fmt.Sprintf("partitions %d out of range [1, %d]", n, s.cfg.MaxPartitions)
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if s.lookup(name) != nil {
		return nil, kerr.TopicAlreadyExists, fmt.Sprintf("topic %q already exists", name)
	}
	if validateOnly {
		return nil, nil, ""
	}
	t := &topic{name: name, id: newID()}
	for p := range n {
		l, err := s.openPartition(name, p, true)
		if err != nil {
			s.closeLogs(t.parts)
			s.removeDirs(name, p+1)
			s.log.Error("kafka: create topic failed", "topic", name, "err", err)
			return nil, kerr.KafkaStorageError, err.Error()
		}
		t.parts = append(t.parts, l)
	}
	if err := s.writeMeta(t, nil); err != nil {
		s.closeLogs(t.parts)
		s.removeDirs(name, n)
		s.log.Error("kafka: create topic failed", "topic", name, "err", err)
		return nil, kerr.KafkaStorageError, err.Error()
	}
	s.tmu.Lock()
	s.topics[name] = t
	s.byID[t.id] = t
	s.tmu.Unlock()
	s.log.Info("kafka: topic created", "topic", name, "partitions", n)
	return t, nil, ""
}

// deleteTopic removes t from the registry and meta.json, closes its logs
// and removes their directories. Requests already holding one of its logs
// see seglog.ErrClosed.
func (s *Server) deleteTopic(t *topic) error {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if s.lookup(t.name) != t {
		return nil // deleted concurrently
	}
	if err := s.writeMeta(nil, t); err != nil {
		return err
	}
	s.tmu.Lock()
	delete(s.topics, t.name)
	delete(s.byID, t.id)
	s.tmu.Unlock()
	s.closeLogs(t.parts)
	err := s.removeDirs(t.name, int32(len(t.parts)))
	s.log.Info("kafka: topic deleted", "topic", t.name, "partitions", len(t.parts))
	return err
}

// openPartition opens (creating if need be) one partition's log. With fresh
// set, a directory left by an earlier topic of that name (an interrupted
// delete) is removed first so the new topic starts empty.
func (s *Server) openPartition(name string, p int32, fresh bool) (*seglog.Log, error) {
	dir := s.partitionDir(name, p)
	if fresh {
		if _, err := s.fsys.List(dir); err == nil {
			s.log.Warn("kafka: removing stale partition directory", "dir", dir)
			if err := s.fsys.RemoveAll(dir); err != nil {
				return nil, err
			}
		}
	}
	l, rep, err := seglog.Open(dir, s.cfg.Log)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	switch {
	case rep.Cut():
		s.log.Warn("kafka: partition recovered with a cut", "dir", dir, "report", rep.String())
	case !fresh:
		s.log.Debug("kafka: partition opened", "dir", dir, "report", rep.String())
	}
	return l, nil
}

// closeLogs closes logs, logging failures.
func (s *Server) closeLogs(logs []*seglog.Log) error {
	var errs []error
	for _, l := range logs {
		if err := l.Close(); err != nil {
			s.log.Error("kafka: closing log", "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeDirs removes the directories of partitions [0, n) of a topic.
func (s *Server) removeDirs(name string, n int32) error {
	var errs []error
	for p := range n {
		if err := s.fsys.RemoveAll(s.partitionDir(name, p)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeMeta rewrites meta.json atomically with the current topics plus add
// and minus del (either may be nil). adminMu must be held.
func (s *Server) writeMeta(add, del *topic) error {
	m := meta{ClusterID: s.clusterID}
	for _, t := range s.sortedTopics() {
		if t != del {
			m.Topics = append(m.Topics, metaTopic{Name: t.name, ID: hex.EncodeToString(t.id[:]), Partitions: int32(len(t.parts))})
		}
	}
	if add != nil {
		m.Topics = append(m.Topics, metaTopic{Name: add.name, ID: hex.EncodeToString(add.id[:]), Partitions: int32(len(add.parts))})
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return s.fsys.WriteFileAtomic(filepath.Join(s.cfg.Dir, metaName), append(b, '\n'))
}

// loadTopics reads meta.json and reopens every topic it lists. Without a
// meta.json, topics are inferred from the partition directories (a data
// directory written before meta.json existed, or whose meta.json was lost).
// Partition directories of no listed topic are logged and left alone.
func (s *Server) loadTopics() error {
	if err := s.fsys.MkdirAll(s.cfg.Dir); err != nil {
		return err
	}
	dirs, err := partitionDirs(s.fsys, s.cfg.Dir)
	if err != nil {
		return err
	}
	m, err := readMeta(s.fsys, filepath.Join(s.cfg.Dir, metaName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m = inferMeta(dirs)
		if len(m.Topics) > 0 {
			s.log.Warn("kafka: no meta.json; topics inferred from partition directories", "topics", len(m.Topics))
		}
	case err != nil:
		return err
	}
	s.clusterID = m.ClusterID
	if s.clusterID == "" {
		id := newID()
		s.clusterID = base64.RawURLEncoding.EncodeToString(id[:])
	}
	for _, mt := range m.Topics {
		if err := s.reopenTopic(mt); err != nil {
			return err
		}
		for p := range mt.Partitions {
			delete(dirs, s.partitionDir(mt.Name, p))
		}
	}
	if len(dirs) > 0 {
		s.log.Warn("kafka: ignoring partition directories of no topic in meta.json", "count", len(dirs), "example", anyKey(dirs))
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	return s.writeMeta(nil, nil)
}

// reopenTopic opens the logs of a topic listed in meta.json.
func (s *Server) reopenTopic(mt metaTopic) error {
	if err := validTopicName(mt.Name); err != nil || mt.Partitions < 1 {
		return fmt.Errorf("kafka: %s: bad topic entry %+v", metaName, mt)
	}
	t := &topic{name: mt.Name}
	if _, err := hex.Decode(t.id[:], []byte(mt.ID)); err != nil || len(mt.ID) != 32 {
		t.id = newID()
	}
	for p := range mt.Partitions {
		l, err := s.openPartition(mt.Name, p, false)
		if err != nil {
			s.closeLogs(t.parts)
			return err
		}
		t.parts = append(t.parts, l)
	}
	s.topics[t.name] = t
	s.byID[t.id] = t
	return nil
}

func readMeta(fsys vfs.FS, name string) (meta, error) {
	var m meta
	b, err := fsys.ReadFile(name)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("kafka: %s: %w", name, err)
	}
	return m, nil
}

// partitionDirs returns the directories of dir named like a partition
// (<topic>-<n>), mapped to their topic and partition.
func partitionDirs(fsys vfs.FS, dir string) (map[string]metaTopic, error) {
	ents, err := fsys.ListDirs(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]metaTopic)
	for _, e := range ents {
		i := strings.LastIndexByte(e, '-')
		if i <= 0 {
			continue
		}
		name, ps := e[:i], e[i+1:]
		p, err := strconv.ParseInt(ps, 10, 32)
		if err != nil || p < 0 || strconv.Itoa(int(p)) != ps || validTopicName(name) != nil {
			continue
		}
		out[filepath.Join(dir, e)] = metaTopic{Name: name, Partitions: int32(p)}
	}
	return out, nil
}

// inferMeta builds topics from partition directories: a topic's partition
// count is one more than its highest partition found.
func inferMeta(dirs map[string]metaTopic) meta {
	counts := make(map[string]int32)
	for _, d := range dirs {
		counts[d.Name] = max(counts[d.Name], d.Partitions+1)
	}
	var m meta
	for name, n := range counts {
		m.Topics = append(m.Topics, metaTopic{Name: name, Partitions: n})
	}
	slices.SortFunc(m.Topics, func(a, b metaTopic) int { return strings.Compare(a.Name, b.Name) })
	return m
}

func anyKey(m map[string]metaTopic) string {
	for k := range m {
		return k
	}
	return ""
}

// newID returns a random version-4 UUID.
func newID() [16]byte {
	var id [16]byte
	rand.Read(id[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}
