package rules

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file holds the strict readers the loader uses to walk a yaml.Node
// tree. Each reports a problem with the line of the node at fault and
// returns ok=false, so the caller can carry on and find the next problem.

// scope says where in the file a node sits, for error messages.
type scope struct{ rule, class, field string }

// key descends into a mapping key: "entries[0]" + "attributes".
func (s scope) key(k string) scope {
	if s.field != "" {
		k = s.field + "." + k
	}
	s.field = k
	return s
}

// index descends into a list element: "entries" + 0.
func (s scope) index(i int) scope {
	s.field += "[" + strconv.Itoa(i) + "]"
	return s
}

func (l *loader) errorf(n *yaml.Node, s scope, format string, args ...any) {
	l.errorAt(n.Line, s, fmt.Sprintf(format, args...))
	if f, ok := l.origin[n]; ok { // a composed file: the node's own file
		l.errs[len(l.errs)-1].File = f
	}
}

func (l *loader) errorAt(line int, s scope, reason string) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Rule: s.rule, Class: s.class, Field: s.field, Reason: reason})
}

// pair is one key/value of a mapping.
type pair struct {
	name     string
	key, val *yaml.Node
}

// pairs returns a mapping's entries, reporting a node of another kind, keys
// that are not strings, and repeated keys (yaml.v3 checks those only when
// decoding into Go values, not into a Node).
func (l *loader) pairs(n *yaml.Node, s scope) ([]pair, bool) {
	if n.Kind != yaml.MappingNode {
		l.errorf(n, s, "expected a mapping, got %s", describe(n))
		return nil, false
	}
	first := map[string]int{}
	var out []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			l.errorf(k, s, "expected a string key, got %s", describe(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			l.errorf(k, s, "key %q repeated (first at line %d)", k.Value, line)
			continue
		}
		first[k.Value] = k.Line
		out = append(out, pair{k.Value, k, v})
	}
	return out, true
}

// fields reads a mapping with a fixed set of keys. It returns nil when n is
// not a mapping.
func (l *loader) fields(n *yaml.Node, s scope, known ...string) map[string]*yaml.Node {
	ps, ok := l.pairs(n, s)
	if !ok {
		return nil
	}
	out := make(map[string]*yaml.Node, len(ps))
	for _, p := range ps {
		isKnown := false
		for _, k := range known {
			isKnown = isKnown || k == p.name
		}
		if !isKnown {
			l.errorf(p.key, s, "unknown field %q", p.name)
			continue
		}
		out[p.name] = p.val
	}
	return out
}

// need returns f[key], reporting its absence at the mapping m.
func (l *loader) need(f map[string]*yaml.Node, m *yaml.Node, s scope, key string) *yaml.Node {
	v := f[key]
	if v == nil {
		l.errorf(m, s, "missing %s", key)
	}
	return v
}

func (l *loader) seq(n *yaml.Node, s scope) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, s, "expected a list, got %s", describe(n))
		return nil, false
	}
	return n.Content, true
}

// str reads a non-blank string. Only scalars YAML types as strings pass:
// `name: 100` or `name: true` is a type error, not a silent conversion.
func (l *loader) str(n *yaml.Node, s scope) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		l.errorf(n, s, "expected a string, got %s", describe(n))
		return "", false
	}
	if strings.TrimSpace(n.Value) == "" {
		l.errorf(n, s, "must not be empty")
		return "", false
	}
	return n.Value, true
}

func (l *loader) integer(n *yaml.Node, s scope) (int, bool) {
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		l.errorf(n, s, "expected an integer, got %s", describe(n))
		return 0, false
	}
	return i, true
}

func (l *loader) boolean(n *yaml.Node, s scope) (bool, bool) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		l.errorf(n, s, "expected true or false, got %s", describe(n))
		return false, false
	}
	return b, true
}

// describe names what a node is, for "expected X, got Y" messages. User
// text is quoted so a message stays on one line.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias (anchors and aliases are not supported)"
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!null":
			return "null"
		case "!!str":
			return "string " + strconv.Quote(n.Value)
		case "!!int":
			return "integer " + strconv.Quote(n.Value)
		case "!!float":
			return "number " + strconv.Quote(n.Value)
		case "!!bool":
			return "boolean " + strconv.Quote(n.Value)
		default:
			return fmt.Sprintf("%q value %q", tag, n.Value)
		}
	}
	return "nothing"
}

// peekName returns a mapping's "name" string without reporting anything,
// so errors found anywhere in a class or rule can be prefixed with its name.
func peekName(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "name" && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && strings.TrimSpace(v.Value) != "" {
			return v.Value
		}
	}
	return ""
}
