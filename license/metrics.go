package license

import (
	"encoding/json"
	"errors"
	"slices"

	"github.com/irego/irego/store"
)

// Metric is an entry of the metric catalogue.
type Metric struct {
	ID          int    `json:"id"`
	CodeName    string `json:"code_name"`
	DisplayName string `json:"display_name"`
	// SourceType is 0 for predefined metrics and 2 for custom ones (made by
	// a contract import or a metric rule), as License Metric Tool numbers
	// them.
	SourceType int `json:"source_type"`
}

// Source types.
const (
	Predefined = 0
	Custom     = 2
)

// Metrics that cannot be a contract's metric.
var internalMetrics = []string{"INTERNAL_PVU", "INTERNAL_RVU_MAPC"}

// predefined is the built-in catalogue. The ids License Metric Tool
// documents are kept; its documentation does not give the ids of the
// capacity metrics and internal ones, so those are irego's own.
var predefined = []Metric{
	{-32603, "CONCURRENT_USER", "Concurrent User", Predefined},
	{-32470, "VU_VALUE_UNIT", "Value Unit", Predefined},
	{-31967, "PROCESS", "Process", Predefined},
	{-29478, "POPULATED_SOCKET", "Populated Socket", Predefined},
	{-23352, "SQL_SERVER_MICROSOFT_VIRTUAL_PROCESSOR_CORES", "SQL Server Virtual Processor Cores", Predefined},
	{-18783, "AUTHORIZED_USER", "Authorized User", Predefined},
	{-18750, "PROCESSOR", "Processor", Predefined},
	{1, "PVU_FULL_CAP", "Processor Value Unit (PVU) full capacity", Predefined},
	{2, "PVU_SUB_CAP", "Processor Value Unit (PVU) subcapacity", Predefined},
	{3, "RVU_FULL_CAP", "Resource Value Unit (RVU) full capacity", Predefined},
	{4, "RVU_SUB_CAP", "Resource Value Unit (RVU) subcapacity", Predefined},
	{5, "VIRTUAL_PROCESSOR_CORE", "Virtual Processor Core", Predefined},
	{7, "INTERNAL_PVU", "Processor Value Unit (internal)", Predefined},
	{8, "INTERNAL_RVU_MAPC", "Resource Value Unit MAPC (internal)", Predefined},
	{9, "INTERNAL_INSTALL", "Install", Predefined},
	{10251, "RESOURCE_UNIT", "Resource Unit", Predefined},
	{10808, "CLIENT_ACCESS_LICENSE", "Client Access License", Predefined},
	{19462, "NAMED_USER", "Named User", Predefined},
}

// firstCustomID is the id of the first custom metric.
const firstCustomID = 100001

// catalogue is the predefined metrics and the custom ones stored.
type catalogue []Metric

func readCatalogue(r store.Reader) (catalogue, error) {
	out := slices.Clone(catalogue(predefined))
	b, err := r.Get(store.LicenseDocKey("metrics"))
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	var custom []Metric
	if err := json.Unmarshal(b, &custom); err != nil {
		return nil, err
	}
	return append(out, custom...), nil
}

func (c catalogue) byCode(code string) (Metric, bool) {
	i := slices.IndexFunc(c, func(m Metric) bool { return m.CodeName == code })
	if i < 0 {
		return Metric{}, false
	}
	return c[i], true
}

func (c catalogue) byID(id int) (Metric, bool) {
	i := slices.IndexFunc(c, func(m Metric) bool { return m.ID == id })
	if i < 0 {
		return Metric{}, false
	}
	return c[i], true
}

// add appends a custom metric and returns it.
func (c *catalogue) add(code, display string) Metric {
	id := firstCustomID
	for _, m := range *c {
		if m.SourceType == Custom && m.ID >= id {
			id = m.ID + 1
		}
	}
	if display == "" {
		display = code
	}
	m := Metric{ID: id, CodeName: code, DisplayName: display, SourceType: Custom}
	*c = append(*c, m)
	return m
}

// write stores the custom part of the catalogue.
func (c catalogue) write(txn store.Txn) error {
	var custom []Metric
	for _, m := range c {
		if m.SourceType == Custom {
			custom = append(custom, m)
		}
	}
	b, err := json.Marshal(custom)
	if err != nil {
		return err
	}
	return txn.Set(store.LicenseDocKey("metrics"), b)
}

// Metrics returns the metric catalogue: predefined metrics, then custom
// ones by id.
func (m *Manager) Metrics() ([]Metric, error) {
	var c catalogue
	err := m.st.View(func(r store.Reader) (err error) {
		c, err = readCatalogue(r)
		return err
	})
	return c, err
}
