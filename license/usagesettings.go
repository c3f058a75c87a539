package license

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/irego/irego/store"
)

// UsageSetting is what a client set for one product and metric in a
// computer group: the threshold (the units the product is entitled to use
// there) and custom field values, as PUT /api/sam/v2/license_usage sets
// them.
type UsageSetting struct {
	Threshold *int           `json:"threshold,omitempty"`
	Custom    map[int]string `json:"custom,omitempty"`
}

// UsageKey names a product and metric in a computer group.
type UsageKey struct {
	Group  int
	Title  uint64
	Metric int
}

// String is group/title/metric, as logs and errors name a usage row.
func (k UsageKey) String() string { return fmt.Sprintf("%d/%d/%d", k.Group, k.Title, k.Metric) }

// UsageChange is one row of a settings update: the columns it sets (a
// null clears one, a column left out stays as it is).
type UsageChange struct {
	Key       UsageKey
	Threshold Field[int]
	Custom    map[int]Field[string]
}

// ErrImportRunning: settings cannot change while an import runs.
var ErrImportRunning = errors.New("license: an import is in progress; the values cannot be updated until it ends")

// NotFoundError names a product or metric of an update that does not
// exist, by the row (from 1) that named it.
type NotFoundError struct {
	Row int
	Msg string
}

// Error names the row and the reason.
func (e *NotFoundError) Error() string { return fmt.Sprintf("row %d: %s", e.Row, e.Msg) }

const usageSettingsDoc = "usage_settings"

func readUsageSettings(r store.Reader) (map[string]UsageSetting, error) {
	out := map[string]UsageSetting{}
	b, err := r.Get(store.LicenseDocKey(usageSettingsDoc))
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("license: corrupt usage settings: %w", err)
	}
	return out, nil
}

// SetUsage applies changes, all or nothing. Every row must name a known
// software title and metric (a *NotFoundError otherwise); while an import
// runs nothing changes (ErrImportRunning).
func (m *Manager) SetUsage(changes []UsageChange) error {
	if m.busy.Load() {
		return ErrImportRunning
	}
	return m.update(func(txn store.Txn) error {
		d, err := readTitles(txn)
		if err != nil {
			return err
		}
		cat, err := readCatalogue(txn)
		if err != nil {
			return err
		}
		all, err := readUsageSettings(txn)
		if err != nil {
			return err
		}
		for i, c := range changes {
			if d.titles[c.Key.Title] == nil {
				return &NotFoundError{i + 1, fmt.Sprintf("product_id: no software product %d", c.Key.Title)}
			}
			if _, ok := cat.byID(c.Key.Metric); !ok {
				return &NotFoundError{i + 1, fmt.Sprintf("metric_id: no metric %d", c.Key.Metric)}
			}
			s := all[c.Key.String()]
			s.Custom = maps.Clone(s.Custom)
			switch t := c.Threshold; {
			case t.Null:
				s.Threshold = nil
			case t.Set:
				v := t.Value
				s.Threshold = &v
			}
			for id, f := range c.Custom {
				if f.Null || f.Value == "" {
					delete(s.Custom, id)
					continue
				}
				if s.Custom == nil {
					s.Custom = map[int]string{}
				}
				s.Custom[id] = f.Value
			}
			if s.Threshold == nil && len(s.Custom) == 0 {
				delete(all, c.Key.String())
			} else {
				all[c.Key.String()] = s
			}
		}
		b, err := json.Marshal(all)
		if err != nil {
			return err
		}
		return txn.Set(store.LicenseDocKey(usageSettingsDoc), b)
	})
}

// UsageSettings returns the settings of a computer group's products and
// metrics.
func (m *Manager) UsageSettings(group int) (map[UsageKey]UsageSetting, error) {
	var all map[string]UsageSetting
	if err := m.st.View(func(r store.Reader) (err error) { all, err = readUsageSettings(r); return err }); err != nil {
		return nil, err
	}
	out := map[UsageKey]UsageSetting{}
	for k, s := range all {
		var key UsageKey
		if _, err := fmt.Sscanf(k, "%d/%d/%d", &key.Group, &key.Title, &key.Metric); err == nil && key.Group == group {
			out[key] = s
		}
	}
	return out, nil
}
