package engine

import (
	"context"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// Bounds of what the engine keeps of a report for people to read later:
// each CI's last report and each source's refused values stay small
// whatever the payload held.
const (
	maxKeptAttempts = 16  // identifier attempts of a last report
	maxKeptMasked   = 64  // refused attributes per CI and source, and per last report
	maxKeptText     = 512 // bytes of a value, reason or info
)

// lastReport is how this report identified the CI of item ip (its
// target), bounded in size. It is kept with the source's entry of the CI
// (writeSources), replacing the source's previous one: the newest among a
// CI's sources is its last report.
func lastReport(ip *identify.ItemPlan, in *payload.SourceInfo, source string, now time.Time) *store.LastReport {
	t := ip.Target
	lr := &store.LastReport{At: now, Source: source, Operation: t.Op, Attempts: []store.ReportAttempt{}}
	if t.Entry != nil {
		lr.Entry = t.Entry.ID
	}
	keep := func(a *identify.Attempt) {
		if len(lr.Attempts) == maxKeptAttempts {
			lr.Omitted++
			return
		}
		lr.Attempts = append(lr.Attempts, store.ReportAttempt{Entry: clip(a.IdentifierName), Attributes: clipAll(a.Attributes),
			Result: a.AttemptResult, Info: clip(a.Info)})
	}
	lead, rest := sourceAttempt(ip.Attempts, in) // as the answer lists them, without copying them
	keep(&lead)
	for i := range rest {
		keep(&rest[i])
	}
	lr.Masked = maskedValues(t, source, now)
	if len(lr.Masked) > maxKeptMasked {
		lr.Omitted += len(lr.Masked) - maxKeptMasked
		lr.Masked = lr.Masked[:maxKeptMasked]
	}
	return lr
}

// writeMasked keeps, for every written CI, each value the source reported
// and could not set (the last one per attribute and source).
func writeMasked(txn store.Txn, plan *identify.Plan, source string, now time.Time) (int, error) {
	n := 0
	for _, t := range plan.Targets {
		if len(t.Errors) > 0 || len(t.Masks) == 0 || len(t.Inputs)+len(t.Related) == 0 {
			continue
		}
		if err := keepMasked(txn, t.SysID, source, maskedValues(t, source, now)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func maskedValues(t *identify.Target, source string, now time.Time) []store.MaskedValue {
	var out []store.MaskedValue
	for _, m := range t.Masks {
		out = append(out, store.MaskedValue{Attribute: m.Attribute, Source: source, Value: clip(payload.Canonical(m.Value)),
			Null: m.Value == nil, At: now, Reason: clip(m.Reason)})
	}
	return out
}

// keepMasked merges a report's refused values into what the source's
// earlier reports left: one per attribute, the newest, at most
// maxKeptMasked (the oldest go).
func keepMasked(txn store.Txn, sysID, source string, fresh []store.MaskedValue) error {
	key := store.MaskedKey(sysID, source)
	var kept []store.MaskedValue
	b, err := txn.Get(key)
	switch {
	case err == nil:
		if kept, err = store.DecodeMasked(b); err != nil {
			kept = nil // unreadable: the fresh values replace it
		}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	for _, m := range fresh {
		kept = slices.DeleteFunc(kept, func(k store.MaskedValue) bool { return k.Attribute == m.Attribute })
	}
	kept = append(kept, fresh...) // oldest first
	if len(kept) > maxKeptMasked {
		kept = kept[len(kept)-maxKeptMasked:]
	}
	if b, err = store.EncodeMasked(kept); err != nil {
		return err
	}
	return txn.Set(key, b)
}

// lastReportKeys lists a CI's last report (as older versions kept it) and
// masked values, for deleting or merging it.
func lastReportKeys(r store.Reader, sysID string) ([][]byte, error) {
	keys := [][]byte{store.LastReportKey(sysID)}
	err := r.Iterate(store.MaskedPrefix(sysID), func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	return keys, err
}

// LastReport returns how the last report that wrote the CI identified it,
// or nil when none was kept (a CI written before reports were kept, or
// only by a bulk load, or a related record): the newest report kept with
// the CI's sources, or under the key older versions wrote.
func (e *Engine) LastReport(_ context.Context, sysID string) (*store.LastReport, error) {
	var lr *store.LastReport
	err := e.st.View(func(r store.Reader) error {
		err := r.Iterate(store.SourcePrefix(sysID), func(_, v []byte) error {
			si, err := store.DecodeSourceInfo(v)
			if err == nil && si.Report != nil && (lr == nil || si.Report.At.After(lr.At)) {
				lr = si.Report
			}
			return err
		})
		if err != nil {
			return err
		}
		b, err := r.Get(store.LastReportKey(sysID))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		old, err := store.DecodeLastReport(b)
		if err == nil && (lr == nil || old.At.After(lr.At)) {
			lr = old
		}
		return err
	})
	return lr, err
}

// readMasked lists the values sources reported of a CI and could not set,
// source by source, oldest first.
func readMasked(r store.Reader, sysID string) ([]store.MaskedValue, error) {
	var out []store.MaskedValue
	err := r.Iterate(store.MaskedPrefix(sysID), func(_, v []byte) error {
		m, err := store.DecodeMasked(v)
		out = append(out, m...)
		return err
	})
	return out, err
}

// clip cuts s to maxKeptText bytes at a rune boundary, marking the cut.
func clip(s string) string {
	if len(s) <= maxKeptText {
		return s
	}
	cut := maxKeptText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func clipAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clip(s)
	}
	return out
}
