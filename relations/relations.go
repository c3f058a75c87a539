package relations

import (
	"errors"
	"fmt"

	"github.com/irego/irego/store"
)

// Direction selects which edges a walk follows.
type Direction int

const (
	// Out follows edges from parent to child.
	Out Direction = iota
	// In follows edges from child to parent.
	In
	// Both follows edges either way.
	Both
)

// Put stores e under its parent, and an empty key under its child that
// leads to it: the edge is stored once.
func Put(t store.Txn, e *store.Edge) error {
	b, err := store.EncodeEdge(e)
	if err != nil {
		return err
	}
	if err := t.Set(store.OutKey(e.Parent, e.Type, e.Child), b); err != nil {
		return err
	}
	return t.Set(store.InKey(e.Child, e.Type, e.Parent), nil)
}

// Delete removes e from both of its ends.
func Delete(t store.Txn, e *store.Edge) error {
	if err := t.Delete(store.OutKey(e.Parent, e.Type, e.Child)); err != nil {
		return err
	}
	return t.Delete(store.InKey(e.Child, e.Type, e.Parent))
}

// Find returns the edge parent -type-> child, or store.ErrNotFound.
func Find(r store.Reader, parent, relType, child string) (*store.Edge, error) {
	b, err := r.Get(store.OutKey(parent, relType, child))
	if err != nil {
		return nil, err
	}
	return store.DecodeEdge(b)
}

// Outbound returns the edges whose parent is sysID, ordered by type then child.
func Outbound(r store.Reader, sysID string) ([]*store.Edge, error) {
	return list(r, store.OutPrefix(sysID))
}

// Inbound returns the edges whose child is sysID, ordered by type then parent.
func Inbound(r store.Reader, sysID string) ([]*store.Edge, error) {
	// The keys under the child first, then the edges they lead to, so the
	// walk does not read the store while it walks.
	var out []*store.Edge
	var outKeys [][]byte
	err := r.Iterate(store.InPrefix(sysID), func(k, v []byte) error {
		if len(v) > 0 { // an edge stored whole, as older versions did
			e, err := store.DecodeEdge(v)
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		}
		outKey, ok := store.OutKeyOfIn(sysID, k)
		if !ok {
			return fmt.Errorf("relations: %q is not a relation key of %s", k, sysID)
		}
		out = append(out, nil) // read below
		outKeys = append(outKeys, outKey)
		return nil
	})
	if err != nil {
		return nil, err
	}
	j := 0
	for i, e := range out {
		if e != nil {
			continue
		}
		b, err := r.Get(outKeys[j])
		j++
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("relations: %s: the relation %q is indexed under its child but not stored", sysID, outKeys[j-1])
			}
			return nil, err
		}
		if out[i], err = store.DecodeEdge(b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func list(r store.Reader, prefix []byte) ([]*store.Edge, error) {
	var out []*store.Edge
	err := r.Iterate(prefix, func(_, v []byte) error {
		e, err := store.DecodeEdge(v)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// Step is one edge reached by Walk, with the distance from the start.
type Step struct {
	Edge  *store.Edge
	Depth int
}

// Walk visits the graph breadth-first from start, following edges in dir,
// up to depth edges away (depth ≤ 0 means no limit). Each edge is reported
// once and each CI expanded once, so cycles end the walk instead of looping.
func Walk(r store.Reader, start string, dir Direction, depth int) ([]Step, error) {
	seen := map[string]bool{start: true}
	edgeSeen := map[string]bool{}
	frontier := []string{start}
	var steps []Step
	for d := 1; len(frontier) > 0 && (depth <= 0 || d <= depth); d++ {
		var next []string
		for _, id := range frontier {
			edges, err := neighbours(r, id, dir)
			if err != nil {
				return nil, err
			}
			for _, e := range edges {
				if edgeSeen[e.SysID] {
					continue
				}
				edgeSeen[e.SysID] = true
				steps = append(steps, Step{Edge: e, Depth: d})
				other := e.Child
				if other == id {
					other = e.Parent
				}
				if !seen[other] {
					seen[other] = true
					next = append(next, other)
				}
			}
		}
		frontier = next
	}
	return steps, nil
}

func neighbours(r store.Reader, id string, dir Direction) ([]*store.Edge, error) {
	var out []*store.Edge
	if dir == Out || dir == Both {
		o, err := Outbound(r, id)
		if err != nil {
			return nil, err
		}
		out = append(out, o...)
	}
	if dir == In || dir == Both {
		in, err := Inbound(r, id)
		if err != nil {
			return nil, err
		}
		out = append(out, in...)
	}
	return out, nil
}
