package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// Discovery bookkeeping, as ServiceNow's IRE keeps it. A record's Source
// (discovery_source) is the source that inserted it. first_discovered is set
// on insert, from the payload or now, and later only when a payload gives
// it. last_discovered moves on every report, also one that changes nothing
// else: to the payload's value when that is newer, else to now (unless
// skip_updating_source_last_discovered_to_now). These and the system fields
// are the engine's to keep, so they are taken out of the values before
// identification and never count as a change of the CI: a report that
// only moves last_discovered answers NO_CHANGE.

// bookkeeping are the fields of values the engine keeps itself.
var bookkeeping = []string{"discovery_source", "first_discovered", "last_discovered", "sys_created_on", "sys_updated_on"}

// reported is what one input said about when it was discovered; zero
// times were not given.
type reported struct {
	first, last time.Time
	recency     time.Time // sys_object_source_info.source_recency_timestamp
}

// discoveryInput is what the inputs of one payload said, by item index and
// related item position, and the warnings about values it could not read.
type discoveryInput struct {
	items    []reported
	related  map[identify.RelatedRef]reported
	warnings map[int][]Issue
}

// readDiscovery returns p without the bookkeeping fields in its values (p
// itself when none has any; p is not modified) and what they said.
func readDiscovery(p *payload.Payload) (*payload.Payload, *discoveryInput) {
	in := &discoveryInput{items: make([]reported, len(p.Items)), related: map[identify.RelatedRef]reported{}, warnings: map[int][]Issue{}}
	q := p
	for i := range p.Items {
		it := &p.Items[i]
		where := func() string { return fmt.Sprintf("item %d (%s)", i, it.ClassName) } // for warnings only
		if si := it.SourceInfo; si != nil {
			in.items[i].recency = in.when(i, where, "sys_object_source_info.source_recency_timestamp", si.SourceRecencyTimestamp)
		}
		if hasBookkeeping(it.Values) {
			if q == p {
				q = &payload.Payload{Items: append([]payload.Item(nil), p.Items...), Relations: p.Relations}
			}
			q.Items[i].Values = in.strip(&in.items[i], i, where, it.Values)
		}
		for j := range it.Related {
			r := &it.Related[j]
			if !hasBookkeeping(r.Values) {
				continue
			}
			if q == p {
				q = &payload.Payload{Items: append([]payload.Item(nil), p.Items...), Relations: p.Relations}
			}
			if &q.Items[i].Related[0] == &it.Related[0] {
				q.Items[i].Related = append([]payload.Related(nil), it.Related...)
			}
			var rep reported
			q.Items[i].Related[j].Values = in.strip(&rep, i, func() string { return fmt.Sprintf("item %d related %d (%s)", i, j, r.ClassName) }, r.Values)
			in.related[identify.RelatedRef{MainIndex: i, SubIndex: j}] = rep
		}
	}
	return q, in
}

func hasBookkeeping(values map[string]any) bool {
	for _, k := range bookkeeping {
		if _, ok := values[k]; ok {
			return true
		}
	}
	return false
}

// strip returns a copy of values without the bookkeeping fields, noting the
// discovery times they give in rep.
func (in *discoveryInput) strip(rep *reported, item int, where func() string, values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		out[k] = v
	}
	for _, k := range bookkeeping {
		delete(out, k)
	}
	rep.first = in.when(item, where, "first_discovered", values["first_discovered"])
	rep.last = in.when(item, where, "last_discovered", values["last_discovered"])
	return out
}

// when reads a reported time: "YYYY-MM-DD hh:mm:ss" in UTC as ServiceNow
// writes it, RFC 3339, or a date. Absent and blank values give the zero
// time; unreadable ones a warning on the item and the zero time.
func (in *discoveryInput) when(item int, where func() string, field string, v any) time.Time {
	if v == nil {
		return time.Time{}
	}
	s, ok := v.(string)
	if ok && strings.TrimSpace(s) == "" {
		return time.Time{}
	}
	if ok {
		s = strings.TrimSpace(s)
		for _, layout := range []string{time.DateTime, time.RFC3339Nano, time.DateOnly} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC()
			}
		}
	}
	in.warnings[item] = append(in.warnings[item], Issue{Code: identify.InvalidInputData,
		Message: fmt.Sprintf("%s: %s %q is not a time (want YYYY-MM-DD hh:mm:ss in UTC); ignored", where(), field, payload.Canonical(v))})
	return time.Time{}
}

// discovery is what a target's record says of its discovery once written.
type discovery struct{ first, last time.Time }

// stamps are the discovery times a payload writes: for every target it
// reports without error, and per item when its source last saw it.
type stamps struct {
	// inserted counts the CIs this payload creates: each is created a
	// nanosecond after the one before (see writeTarget).
	inserted     int
	marks        map[*identify.Target]discovery
	recency      []time.Time // by item index
	skipLastScan bool
}

// stamps decides the discovery times of the targets of plan.
func (in *discoveryInput) stamps(plan *identify.Plan, o ApplyOptions, now time.Time) *stamps {
	st := &stamps{marks: map[*identify.Target]discovery{}, recency: make([]time.Time, len(in.items)), skipLastScan: o.SkipUpdatingLastScanToNow}
	for i, r := range in.items {
		st.recency[i] = r.recency
	}
	for _, t := range plan.Targets {
		if len(t.Errors) > 0 || len(t.Inputs)+len(t.Related) == 0 {
			continue
		}
		var rep reported
		add := func(r reported) {
			if !r.first.IsZero() && (rep.first.IsZero() || r.first.Before(rep.first)) {
				rep.first = r.first
			}
			if r.last.After(rep.last) {
				rep.last = r.last
			}
		}
		if t.IsRelated {
			for _, ref := range t.Related {
				add(in.related[ref])
			}
		} else {
			for _, i := range t.Inputs {
				if i >= 0 && i < len(in.items) {
					add(in.items[i])
				}
			}
		}
		st.marks[t] = rep.discovery(t.Existing, o, now)
	}
	return st
}

// discovery applies what was reported to the stored record old (nil for
// an insert).
func (rep reported) discovery(old *store.Record, o ApplyOptions, now time.Time) discovery {
	if old == nil {
		d := discovery{first: rep.first, last: rep.last}
		if d.first.IsZero() {
			d.first = now
		}
		if d.last.IsZero() {
			d.last = now
		}
		return d
	}
	d := discovery{first: old.FirstDiscovered, last: old.LastDiscovered}
	if d.first.IsZero() {
		d.first = old.Created // a record from before the field existed
	}
	if !rep.first.IsZero() {
		d.first = rep.first
	}
	switch {
	case !rep.last.IsZero():
		if rep.last.After(d.last) {
			d.last = rep.last // an older report is ignored
		}
	case !o.SkipUpdatingSourceLastDiscoveredToNow && now.After(d.last):
		d.last = now
	}
	return d
}

// stamp sets rec's discovery times from the mark of t.
func (st *stamps) stamp(t *identify.Target, rec *store.Record) {
	if d, ok := st.marks[t]; ok {
		rec.FirstDiscovered, rec.LastDiscovered = d.first, d.last
	}
}

// touch rewrites the record of an unchanged target whose discovery times
// moved. It reports whether it wrote.
func (st *stamps) touch(txn store.Txn, t *identify.Target) (bool, error) {
	d, ok := st.marks[t]
	old := t.Existing
	if !ok || old == nil || (d.first.Equal(old.FirstDiscovered) && d.last.Equal(old.LastDiscovered)) {
		return false, nil
	}
	// Only last_discovered moved (the common case of a CI reported again):
	// batch the move, or patch the stored bytes rather than encode the
	// record.
	if d.first.Equal(old.FirstDiscovered) {
		if et, ok := txn.(*eventTxn); ok && et.e.seen != nil && et.pending[t.SysID] == nil {
			et.seeLater(t.SysID, d.last)
			return false, nil
		}
		if b, ok := store.WithLastDiscovered(t.Stored, d.last); ok {
			if et, ok := txn.(*eventTxn); ok {
				if done, err := et.setUnreported(t.SysID, b); done || err != nil {
					return true, err
				}
			} else {
				return true, txn.Set(store.CIKey(t.SysID), b)
			}
		}
	}
	rec := *old
	rec.FirstDiscovered, rec.LastDiscovered = d.first, d.last
	return true, putCIRecord(txn, &rec, old, true)
}

// needsBefore reports whether lastScan for item i depends on what the
// source said before.
func (st *stamps) needsBefore(i int) bool {
	return st.skipLastScan || (i >= 0 && i < len(st.recency) && !st.recency[i].IsZero())
}

// lastScan is when the source last saw the CI item i reported, given what
// it said before (nil when it never reported the CI): the item's
// source_recency_timestamp unless older than before, else now unless
// skip_updating_last_scan_to_now.
func (st *stamps) lastScan(i int, before *store.SourceInfo, now time.Time) time.Time {
	var rec time.Time
	if i >= 0 && i < len(st.recency) {
		rec = st.recency[i]
	}
	switch {
	case before == nil && !rec.IsZero():
		return rec
	case before == nil:
		return now
	case !rec.IsZero() && rec.After(before.LastScan):
		return rec
	case !rec.IsZero() || st.skipLastScan:
		return before.LastScan
	}
	return now
}

// warn adds the warnings about unreadable times to the items of res.
func (in *discoveryInput) warn(res *Result) {
	for i, ws := range in.warnings {
		if i < len(res.Items) {
			res.Items[i].Warnings = append(res.Items[i].Warnings, ws...)
		}
	}
	res.tally()
}
