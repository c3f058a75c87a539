package tmf637

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
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
// returns the products that changed.
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
		if waiting.SysID == id {
			continue
		}
		var keep []pendingLink
		p := &payload.Payload{Items: []payload.Item{
			{ClassName: productClass, Values: map[string]any{"sys_id": waiting.SysID}},
			{ClassName: productClass, Values: map[string]any{"sys_id": id}},
		}}
		for _, l := range pendingOf(waiting.Values) {
			if names[l.Ref] {
				p.Relations = append(p.Relations, payload.Relation{Type: l.Rel, Parent: 0, Child: 1})
			} else {
				keep = append(keep, l)
			}
		}
		if len(p.Relations) == 0 {
			continue
		}
		p.Items[0].Values[aPending], p.Items[0].Values[aHasPending] = jsonText(keep), len(keep) > 0
		res, err := h.e.Apply(ctx, source, p, engine.StrictApplyOptions())
		if err != nil {
			return nil, engineError(err)
		}
		if e := failed(res); e != nil {
			return nil, fmt.Errorf("relating %s to %s: %w", waiting.SysID, id, e)
		}
		changed = append(changed, waiting.SysID)
	}
	return changed, nil
}
