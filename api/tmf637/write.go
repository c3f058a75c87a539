package tmf637

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
)

// The data sources product writes are recorded as, per API.
const (
	tmfSource = "TMF637"
	snSource  = "ProductInventory"
)

// numberSequence numbers products that come without a pid (PI0000001, as
// ServiceNow numbers them), so the Product Inventory Rule can identify them.
const numberSequence = "sn_prd_invt_product_inventory.number"

// saved is what writing one product did.
type saved struct {
	id     string
	insert bool
	before *view // nil for a new product
}

// create stores products in one transaction, all or none. A product whose
// pid names a stored product updates it instead: products are identified
// like every CI.
func (h *handler) create(ctx context.Context, source string, ins []*input) ([]saved, error) {
	var unnumbered []*input
	out := make([]saved, len(ins))
	for i, in := range ins {
		pid, ok := in.values[aPID].(string)
		if !ok || pid == "" {
			unnumbered = append(unnumbered, in)
			continue
		}
		if id, err := h.byPID(ctx, pid); err != nil {
			return nil, err
		} else if id != "" {
			if out[i].before, err = h.load(ctx, id); err != nil && !errors.Is(err, engine.ErrNotFound) {
				return nil, err
			}
		}
	}
	for i, in := range ins {
		if !in.status && out[i].before == nil {
			in.values[aState] = defaultState
		}
	}
	if len(unnumbered) > 0 {
		first, err := h.e.Next(ctx, numberSequence, len(unnumbered))
		if err != nil {
			return nil, engineError(err)
		}
		for k, in := range unnumbered {
			in.values[aNumber] = fmt.Sprintf("PI%07d", first+int64(k))
		}
	}
	p, _, err := h.graph(ctx, ins, make([]string, len(ins)), func(string) bool { return source == snSource })
	if err != nil {
		return nil, err
	}
	res, err := h.e.Apply(ctx, source, p, engine.StrictApplyOptions())
	if err != nil {
		return nil, engineError(err)
	}
	if e := failed(res); e != nil {
		return nil, e
	}
	for i := range ins {
		out[i].id, out[i].insert = res.Items[i].SysID, res.Items[i].Operation == identify.OpInsert
		if _, err = h.settle(ctx, source, out[i].id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// patch applies a JSON merge patch (RFC 7396) to a product as TMF637 shows
// it: what the patch sets replaces, null removes, and an array replaces the
// whole list (characteristics and relations that are no longer listed
// go), all in one transaction.
//
// The request's If-Match, when it names tags, must name the product's
// ETag; the write is then conditional on the product's version until it
// commits (412 otherwise).
func (h *handler) patch(r *http.Request, source, id string, patch map[string]any) (saved, error) {
	ctx := r.Context()
	before, err := h.load(ctx, id)
	if err != nil {
		return saved{}, err
	}
	conditional, e := api.IfMatch(r, before.ci.Version)
	if e != nil {
		return saved{}, e
	}
	if x, ok := patch["id"]; ok && x != any(id) {
		return saved{}, badField("product.id", "is set by the server and cannot be patched")
	}
	current := before.tmf("")
	delete(current, "id")
	delete(current, "href")
	merged, _ := mergePatch(current, patch).(map[string]any)
	in, err := parseProduct(merged, "product")
	if err != nil {
		return saved{}, err
	}
	if !in.status {
		return saved{}, badField("product.status", "cannot be removed; every product has a status")
	}
	// A relation still pending stays so through either API.
	wasPending := map[string]bool{}
	for _, l := range pendingOf(before.ci.Values) {
		wasPending[l.Ref] = true
	}
	p, linked, err := h.graph(ctx, []*input{in}, []string{id}, func(ref string) bool { return source == snSource || wasPending[ref] })
	if err != nil {
		return saved{}, err
	}
	rm := engine.Removal{Attributes: map[string][]string{}}
	if conditional {
		rm.IfVersions = map[string]uint64{id: before.ci.Version}
	}
	rm.Attributes[id] = dropped(before.ci.Values, in.values, managed)
	for _, c := range before.chars {
		i := slices.IndexFunc(in.chars, func(n map[string]any) bool { return n[cName] == text(c.Values[cName]) })
		if i < 0 {
			rm.Records = append(rm.Records, c.SysID)
			continue
		}
		rm.Attributes[c.SysID] = dropped(c.Values, in.chars[i], []string{cValue, cValueType, cIsJSON, cExtra})
	}
	for _, l := range before.links {
		if !slices.Contains(linked[0], linkKey(l.kind.relType, l.id)) {
			rm.Relations = append(rm.Relations, engine.Unlink{Type: l.kind.relType, Parent: id, Child: l.id})
		}
	}
	res, err := h.e.ApplyRemoving(ctx, source, p, rm)
	if err != nil {
		return saved{}, engineError(err)
	}
	if e := failed(res); e != nil {
		return saved{}, e
	}
	return saved{id: id, before: before}, nil
}

// dropped lists the attributes of old, among those, that values lacks.
func dropped(old, values map[string]any, among []string) []string {
	var out []string
	for _, a := range among {
		if _, had := old[a]; had && values[a] == nil {
			out = append(out, a)
		}
	}
	return out
}

// mergePatch applies an RFC 7396 JSON merge patch to target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	out := maps.Clone(t)
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// graph turns products into one payload. Item i is ins[i], updating the
// stored product ids[i] when that is not ""; its characteristics are its
// related items; every product its relations name is an item of its own,
// found by sys_id (or, when a relation names a product of the same payload
// by pid, that product's item). It also returns, per product, the
// relations it now has to stored products (see linkKey). A relation to a
// product not stored yet whose reference pendingOK accepts is kept on the
// product as pending (see aPending), as ServiceNow accepts it; any other
// is a fault of the product.
func (h *handler) graph(ctx context.Context, ins []*input, ids []string, pendingOK func(ref string) bool) (*payload.Payload, [][]string, error) {
	p := &payload.Payload{}
	for i, in := range ins {
		vals := maps.Clone(in.values)
		if ids[i] != "" {
			vals["sys_id"] = ids[i]
		}
		it := payload.Item{ClassName: productClass, Values: vals}
		for _, c := range in.chars {
			it.Related = append(it.Related, payload.Related{ClassName: charClass, Values: c})
		}
		p.Items = append(p.Items, it)
	}
	items := map[string]int{} // stored products already in the payload
	linked := make([][]string, len(ins))
	for i, in := range ins {
		var pending []pendingLink
		for _, l := range in.links {
			j := slices.IndexFunc(ins, func(o *input) bool { return o.values[aPID] == l.ref })
			if j < 0 {
				id, err := h.lookup(ctx, l.ref)
				if err != nil {
					return nil, nil, err
				}
				if id == "" && pendingOK(l.ref) {
					pending = append(pending, pendingLink{Rel: l.relType, Ref: l.ref})
					continue
				}
				if id == "" {
					return nil, nil, badField(l.path, "no product has the id or pid %q; create it first", l.ref)
				}
				if id == ids[i] {
					return nil, nil, badField(l.path, "names the product itself; a product cannot relate to itself")
				}
				k, ok := items[id]
				if !ok {
					k = len(p.Items)
					items[id] = k
					p.Items = append(p.Items, payload.Item{ClassName: productClass, Values: map[string]any{"sys_id": id}})
				}
				j = k
				linked[i] = append(linked[i], linkKey(l.relType, id))
			}
			if j == i {
				return nil, nil, badField(l.path, "names the product itself; a product cannot relate to itself")
			}
			p.Relations = append(p.Relations, payload.Relation{Type: l.relType, Parent: i, Child: j})
		}
		if len(pending) > 0 {
			p.Items[i].Values[aPending], p.Items[i].Values[aHasPending] = jsonText(pending), true
		}
	}
	return p, linked, nil
}

func linkKey(relType, id string) string { return relType + "\x00" + id }

// lookup finds the stored product a relation names by id, or else by pid;
// "" when there is none.
func (h *handler) lookup(ctx context.Context, ref string) (string, error) {
	if rec, err := h.e.Record(ctx, ref); err == nil {
		if c, ok := h.e.Rules().Class(rec.Class); ok && c.IsA(productClass) {
			return rec.SysID, nil
		}
	} else if !errors.Is(err, engine.ErrNotFound) {
		return "", engineError(err)
	}
	return h.byPID(ctx, ref)
}

// byPID returns the sys_id of the product with the pid, "" when none.
func (h *handler) byPID(ctx context.Context, pid string) (string, error) {
	pg, err := h.e.Find(ctx, engine.Query{Class: productClass, Where: []engine.Condition{{Attribute: aPID, Values: []string{pid}}}, Limit: 1})
	if err != nil {
		return "", engineError(err)
	}
	if len(pg.Records) == 0 {
		return "", nil
	}
	return pg.Records[0].SysID, nil
}

// failed turns the errors of a failed payload into a reply: 409 when the
// product would take an identity (a pid) another product holds, else 400.
// Items that failed only because another did (ABANDONED) are not named.
func failed(res *engine.Result) *api.Error {
	if !res.HasError {
		return nil
	}
	var msgs []string
	status := http.StatusBadRequest
	add := func(issues []engine.Issue) {
		for _, is := range issues {
			if is.Code == identify.Abandoned {
				continue
			}
			if is.Code == identify.MultiMatch {
				status = http.StatusConflict
			}
			msgs = append(msgs, is.Code+": "+is.Message)
		}
	}
	for _, it := range res.Items {
		add(it.Errors)
		for _, r := range it.RelatedItems {
			add(r.Errors)
		}
	}
	for _, r := range res.Relations {
		add(r.Errors)
	}
	slices.Sort(msgs)
	return &api.Error{Status: status, Message: "Invalid payload", Detail: strings.Join(slices.Compact(msgs), "; ")}
}

// engineError maps a failure of the engine to a reply.
func engineError(err error) *api.Error {
	var ae *api.Error
	var fe *fieldError
	var re *engine.ReferencedError
	var ve *engine.VersionError
	switch {
	case errors.As(err, &ve):
		return api.PreconditionFailed(ve.Has)
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &fe):
		return &api.Error{Status: http.StatusBadRequest, Message: "Invalid payload", Detail: fe.Error()}
	case errors.As(err, &re):
		return &api.Error{Status: http.StatusConflict, Message: "Product is referenced", Detail: re.Error()}
	case errors.Is(err, engine.ErrNotFound):
		return &api.Error{Status: http.StatusNotFound, Message: "Product not found", Detail: err.Error()}
	case errors.Is(err, engine.ErrTooManyConflicts):
		return &api.Error{Status: http.StatusServiceUnavailable, Message: "Too many concurrent writes", Detail: "the request kept colliding with concurrent writes to the same products; send it again"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &api.Error{Status: http.StatusServiceUnavailable, Message: "Request abandoned", Detail: err.Error()}
	}
	return api.StoreError(err)
}
