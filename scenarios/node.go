package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks a scenario's YAML nodes and turns every problem into an
// *Error naming the file, line and field.
type decoder struct {
	file string
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: d.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// pairs returns mapping n's key/value pairs, rejecting a non-mapping, a
// duplicate key and any key not in known (when known is not nil).
func (d *decoder) pairs(n *yaml.Node, field string, known []string) ([][2]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.errorf(n, field, "want a mapping of field: value, found %s", describe(n))
	}
	seen := map[string]bool{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, d.errorf(k, field, "a key must be a plain name")
		}
		if seen[k.Value] {
			return nil, d.errorf(k, join(field, k.Value), "given twice")
		}
		seen[k.Value] = true
		if known != nil && !contains(known, k.Value) {
			return nil, d.errorf(k, join(field, k.Value), "unknown field (known: %s)", strings.Join(known, ", "))
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

func (d *decoder) str(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", d.errorf(n, field, "want a string, found %s", describe(n))
	}
	return n.Value, nil
}

func (d *decoder) boolean(n *yaml.Node, field string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		return false, d.errorf(n, field, "want true or false, found %s", describe(n))
	}
	return b, nil
}

func (d *decoder) integer(n *yaml.Node, field string) (int64, error) {
	var i int64
	if n.Kind != yaml.ScalarNode || n.Decode(&i) != nil {
		return 0, d.errorf(n, field, "want an integer, found %s", describe(n))
	}
	return i, nil
}

func (d *decoder) uinteger(n *yaml.Node, field string) (uint64, error) {
	var i uint64
	if n.Kind != yaml.ScalarNode || n.Decode(&i) != nil {
		return 0, d.errorf(n, field, "want a non-negative integer, found %s", describe(n))
	}
	return i, nil
}

func (d *decoder) number(n *yaml.Node, field string) (float64, error) {
	var f float64
	if n.Kind != yaml.ScalarNode || n.Decode(&f) != nil {
		return 0, d.errorf(n, field, "want a number, found %s", describe(n))
	}
	return f, nil
}

func (d *decoder) duration(n *yaml.Node, field string) (time.Duration, error) {
	if n.Kind == yaml.ScalarNode {
		if v, err := time.ParseDuration(n.Value); err == nil && v >= 0 {
			return v, nil
		}
	}
	return 0, d.errorf(n, field, "want a duration such as 10s or 1m30s, found %s", describe(n))
}

// describe names what a node holds, for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

func join(field, sub string) string {
	if field == "" {
		return sub
	}
	return field + "." + sub
}

func index(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// overlay returns base with over's keys laid on top: a key in both whose
// values are both mappings is merged recursively, any other key of over
// replaces base's. Neither input is modified; leaves are shared.
func overlay(base, over *yaml.Node) *yaml.Node {
	if base == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := *base
	out.Content = append([]*yaml.Node(nil), base.Content...)
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		j := keyIndex(&out, k.Value)
		if j < 0 {
			out.Content = append(out.Content, k, v)
			continue
		}
		out.Content[j+1] = overlay(out.Content[j+1], v)
	}
	return &out
}

func keyIndex(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// without returns a copy of mapping n without the given keys.
func without(n *yaml.Node, keys ...string) *yaml.Node {
	out := *n
	out.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !contains(keys, n.Content[i].Value) {
			out.Content = append(out.Content, n.Content[i], n.Content[i+1])
		}
	}
	return &out
}
