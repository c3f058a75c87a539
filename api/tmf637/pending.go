package tmf637

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// pendingLink is a relation to a product not stored yet, named by the id
// or pid the client gave. ServiceNow's POST accepts such relations; irego
// keeps them on the product and makes them relations once a product with
// that id or pid is stored.
type pendingLink struct {
	Rel string `json:"rel"`
	Ref string `json:"ref"`
}

// pendingOf reads a product's pending relations.
func pendingOf(values map[string]any) []pendingLink {
	var out []pendingLink
	if s, ok := values[aPending].(string); ok {
		_ = json.Unmarshal([]byte(s), &out) // written by graph; unreadable text holds none
	}
	return out
}

// settle makes the pending relations that name the stored product id (by
// its id or pid) relations, in one transaction per waiting product, and
// returns the products that changed. It also settles id's own pending
// relations to products stored meanwhile: a product and the one it waits
// for, written at the same time, each look after their own write, so the
// later one finds the other.
func (h *handler) settle(ctx context.Context, source, id string) ([]string, error) {
	rec, err := h.e.Record(ctx, id)
	if err != nil {
		return nil, engineError(err)
	}
	names := map[string]bool{id: true}
	if pid := text(rec.Values[aPID]); pid != "" {
		names[pid] = true
	}
	pg, err := h.e.Find(ctx, engine.Query{Class: productClass, Where: []engine.Condition{{Attribute: aHasPending, Values: []string{"true"}}}, Limit: -1})
	if err != nil {
		return nil, engineError(err)
	}
	var changed []string
	for _, waiting := range pg.Records {
		target := func(ref string) (string, error) {
			if names[ref] {
				return id, nil
			}
			return "", nil
		}
		if waiting.SysID == id {
			target = func(ref string) (string, error) { return h.lookup(ctx, ref) }
		}
		ok, err := h.relatePending(ctx, source, waiting, target)
		if err != nil {
			return nil, err
		}
		if ok && waiting.SysID != id {
			changed = append(changed, waiting.SysID)
		}
	}
	return changed, nil
}

// relatePending makes the pending relations of waiting whose product
// target finds ("" for none yet) relations, in one transaction, and
// reports whether there were any.
func (h *handler) relatePending(ctx context.Context, source string, waiting *store.Record, target func(ref string) (string, error)) (bool, error) {
	var keep []pendingLink
	p := &payload.Payload{Items: []payload.Item{{ClassName: productClass, Values: map[string]any{"sys_id": waiting.SysID}}}}
	items := map[string]int{}
	for _, l := range pendingOf(waiting.Values) {
		id, err := target(l.Ref)
		if err != nil {
			return false, err
		}
		if id == "" || id == waiting.SysID {
			keep = append(keep, l)
			continue
		}
		j, ok := items[id]
		if !ok {
			j = len(p.Items)
			items[id] = j
			p.Items = append(p.Items, payload.Item{ClassName: productClass, Values: map[string]any{"sys_id": id}})
		}
		p.Relations = append(p.Relations, payload.Relation{Type: l.Rel, Parent: 0, Child: j})
	}
	if len(p.Relations) == 0 {
		return false, nil
	}
	p.Items[0].Values[aPending], p.Items[0].Values[aHasPending] = jsonText(keep), len(keep) > 0
	res, err := h.e.Apply(ctx, source, p, engine.StrictApplyOptions())
	if err != nil {
		return false, engineError(err)
	}
	if e := failed(res); e != nil {
		return false, fmt.Errorf("relating %s to products stored since: %w", waiting.SysID, e)
	}
	return true, nil
}
