package identify

import (
	"errors"
	"fmt"
	"time"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Mask is an attribute whose reported value was refused, the value
// (nil for a null that may not clear it), and why.
type Mask struct {
	Attribute string
	Value     any
	Reason    string
}

// reconcile decides what t holds after this payload: the stored values,
// overwritten by each reported value the class's reconciliation rules let
// this source write, less the attributes nulls may clear. An insert takes
// every reported value; the inserting source owns what it set.
func (pl *planner) reconcile(t *Target, incoming map[string]any, nulls []string) error {
	source := pl.opts.Source
	values, owners := map[string]any{}, map[string]string{}
	if t.Existing != nil {
		for k, v := range t.Existing.Values {
			values[k] = v
		}
		for k, o := range t.Existing.Owners {
			owners[k] = o
		}
	}
	for _, a := range sortedKeys(incoming) {
		v := incoming[a]
		cur, has := values[a]
		owner, owned := owners[a]
		same := has && payload.Canonical(cur) == payload.Canonical(v)
		rule := t.Class.ReconciliationFor(a)
		if rule != nil && rule.Policy.MultiSource() {
			if err := pl.choose(t, rule, a, v, values, owners); err != nil {
				return err
			}
			continue
		}
		if t.Existing != nil && !same {
			reason, err := pl.refusal(t, rule, a, v, cur, has, owner, owned)
			if err != nil {
				return err
			}
			if reason != "" {
				t.Masks = append(t.Masks, Mask{Attribute: a, Value: v, Reason: reason})
				continue
			}
		}
		if same && owned && (rule == nil || rule.Priority(source) >= rule.Priority(owner)) {
			continue // the owner keeps an attribute it agrees with
		}
		values[a] = v
		if owner != source || !same {
			owners[a] = source
			t.ownersChanged = t.ownersChanged || t.Existing != nil
		}
	}
	if t.Existing != nil {
		for _, a := range nulls {
			if err := pl.clear(t, a, values, owners); err != nil {
				return err
			}
		}
	}
	t.Values, t.Owners = values, owners
	for _, m := range t.Masks {
		t.Masked = append(t.Masked, m.Attribute)
	}
	return nil
}

// clear removes attribute a, reported as null, when its rule lists it under
// update_with_null and lets this source change it. Otherwise a null means
// "not reported" and the stored value stays.
func (pl *planner) clear(t *Target, a string, values map[string]any, owners map[string]string) error {
	cur, has := values[a]
	rule := t.Class.ReconciliationFor(a)
	if !has || rule == nil || !rule.ClearsWithNull(a) {
		return nil
	}
	source := pl.opts.Source
	if !rule.Authorises(source) {
		t.Masks = append(t.Masks, Mask{Attribute: a, Reason: fmt.Sprintf(
			"kept %q: only the sources of the reconciliation rule on %s (line %d) may clear %s with a null, and %s is not one",
			payload.Canonical(cur), rule.AppliesTo, rule.Line, a, source)})
		return nil
	}
	owner, owned := owners[a]
	reason, err := pl.refusal(t, rule, a, nil, cur, has, owner, owned)
	if err != nil {
		return err
	}
	if reason != "" {
		t.Masks = append(t.Masks, Mask{Attribute: a, Reason: reason})
		return nil
	}
	delete(values, a)
	delete(owners, a) // an empty attribute is anyone's to fill
	return nil
}

// refusal returns why rule keeps source from changing attribute a from cur
// to v, or "" when the change is allowed.
func (pl *planner) refusal(t *Target, rule *rules.ReconciliationRule, a string, v, cur any, has bool, owner string, owned bool) (string, error) {
	source := pl.opts.Source
	switch {
	case rule == nil || !has || rule.Policy == rules.Latest:
		return "", nil // no rule, an empty attribute, or the latest report wins
	case rule.Prefer != nil:
		ok, err := rule.Prefer.Eval(map[string]any{"incoming": v, "current": cur, "attribute": a, "source": source, "owner": owner})
		if err != nil {
			return fmt.Sprintf("kept %q: the reconciliation rule on %s (line %d) could not decide: %v", payload.Canonical(cur), rule.AppliesTo, rule.Line, err), nil
		}
		if ok {
			return "", nil
		}
		return fmt.Sprintf("kept %q over %q: the reconciliation rule on %s (line %d) prefers the value for which %s holds",
			payload.Canonical(cur), payload.Canonical(v), rule.AppliesTo, rule.Line, rule.Prefer.Source), nil
	case !owned:
		return "", nil
	}
	mine, theirs := rule.Priority(source), rule.Priority(owner)
	if mine <= theirs {
		return "", nil
	}
	refresh := rule.RefreshFor(owner)
	if refresh > 0 {
		last, err := pl.lastScan(t, owner)
		if err != nil {
			return "", err
		}
		if pl.opts.Now().Sub(last) > refresh {
			return "", nil // the owner has gone quiet: its hold has expired
		}
	}
	reason := fmt.Sprintf("kept %q: owned by %s (priority %s), which outranks %s (priority %s) under the reconciliation rule on %s (line %d)",
		payload.Canonical(cur), owner, priority(theirs), source, priority(mine), rule.AppliesTo, rule.Line)
	if refresh > 0 {
		reason += fmt.Sprintf("; %s's hold lapses %s after its last report", owner, days(refresh))
	}
	return reason, nil
}

// lastScan is when owner last reported the CI; for CIs it never reported
// as an item of its own (related records), when the record last changed.
func (pl *planner) lastScan(t *Target, owner string) (time.Time, error) {
	b, err := pl.r.Get(store.SourceKey(t.SysID, owner))
	if errors.Is(err, store.ErrNotFound) {
		return t.Existing.Updated, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	si, err := store.DecodeSourceInfo(b)
	if err != nil {
		return time.Time{}, err
	}
	return si.LastScan, nil
}

func priority(p int) string {
	if p == int(^uint(0)>>1) {
		return "unlisted"
	}
	return fmt.Sprint(p)
}

// days renders a refresh period the way rule files write it.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}
