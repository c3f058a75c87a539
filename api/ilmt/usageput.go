package ilmt

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/irego/irego/api"
	"github.com/irego/irego/license"
)

// PUT /api/sam/v2/license_usage[?computerGroupId=]: thresholds and custom
// field values of products and metrics in a computer group, all or
// nothing. Each row names its product_id and metric_id (and bundle_id, -1
// or null for none); threshold and custom_field_<n> are set, null clears
// them, a column left out stays. 404 when a product, metric or bundle does
// not exist, 406 while an import runs; 200 with no body.
func (h *handler) putLicenseUsage(w http.ResponseWriter, r *http.Request) {
	body, e := api.ReadBody(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	g, e := h.groupParam(r, http.StatusBadRequest)
	if e != nil {
		writeError(w, r, e)
		return
	}
	changes, e := decodeUsageChanges(body, g.ID)
	if e != nil {
		writeError(w, r, e)
		return
	}
	err := h.m.SetUsage(changes)
	var nf *license.NotFoundError
	switch {
	case errors.Is(err, license.ErrImportRunning):
		writeError(w, r, api.Errorf(http.StatusNotAcceptable, "Not Acceptable", "%v", err))
	case errors.As(err, &nf):
		writeError(w, r, api.Errorf(http.StatusNotFound, "Not Found", "%v", nf))
	case err != nil:
		writeError(w, r, internal(err))
	default:
		echo(w, "computerGroupId", strconv.Itoa(g.ID))
		w.Header().Set("Content-Language", "en-US")
		w.WriteHeader(http.StatusOK)
	}
}

// decodeUsageChanges reads a list of rows (or one row, or {"rows": [...]}).
func decodeUsageChanges(body []byte, group int) ([]license.UsageChange, *api.Error) {
	items, err := decodeItems(body, `rows [{"product_id": ..., "metric_id": ..., "threshold": ...}, ...]`)
	if err != nil {
		return nil, api.Errorf(http.StatusBadRequest, "Bad Request", "body: %v", err)
	}
	rows := make([]map[string]any, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, api.Errorf(http.StatusBadRequest, "Bad Request", "row %d: %s is not an object", i+1, describeJSON(it))
		}
		rows[i] = m
	}
	if len(rows) == 0 {
		return nil, api.Errorf(http.StatusBadRequest, "Bad Request", "body: no rows; give [{\"product_id\", \"metric_id\", \"threshold\", \"custom_field_<n>\"}, ...]")
	}
	out := make([]license.UsageChange, 0, len(rows))
	for i, rw := range rows {
		bad := func(format string, args ...any) *api.Error {
			return api.Errorf(http.StatusBadRequest, "Bad Request", "row %d: %s", i+1, fmt.Sprintf(format, args...))
		}
		c := license.UsageChange{Key: license.UsageKey{Group: group}, Custom: map[int]license.Field[string]{}}
		for _, k := range slices.Sorted(maps.Keys(rw)) {
			v := rw[k]
			switch {
			case k == "product_id":
				n, ok := intOf(v)
				if !ok || n <= 0 {
					return nil, bad("product_id: %s is not a product id", describeJSON(v))
				}
				c.Key.Title = uint64(n)
			case k == "metric_id":
				n, ok := intOf(v)
				if !ok {
					return nil, bad("metric_id: %s is not a metric id", describeJSON(v))
				}
				c.Key.Metric = n
			case k == "bundle_id":
				if n, ok := intOf(v); v != nil && (!ok || n != -1) {
					return nil, &api.Error{Status: http.StatusNotFound, Message: "Not Found", Detail: fmt.Sprintf("row %d: bundle_id: no bundle %s; products here are in no bundle (give -1 or null)", i+1, describeJSON(v))}
				}
			case k == "threshold":
				if v == nil {
					c.Threshold = license.Field[int]{Set: true, Null: true}
					continue
				}
				n, ok := intOf(v)
				if !ok || n < 0 {
					return nil, bad("threshold: %s is not a whole number >= 0", describeJSON(v))
				}
				c.Threshold = license.Val(n)
			case customFieldPattern.MatchString(k):
				id, _ := strconv.Atoi(customFieldPattern.FindStringSubmatch(k)[1])
				if v == nil {
					c.Custom[id] = license.Field[string]{Set: true, Null: true}
					continue
				}
				s, ok := textOf(v)
				if !ok {
					return nil, bad("%s: %s is not text", k, describeJSON(v))
				}
				c.Custom[id] = license.Val(s)
			case strings.HasPrefix(k, "product_") || strings.HasPrefix(k, "metric_") || strings.HasPrefix(k, "bundle_") || k == "hwm_quantity":
				// Columns of the GET reply a client sends back are ignored.
			default:
				return nil, bad("unknown column %q; give product_id, metric_id, bundle_id, threshold and custom_field_<n>", k)
			}
		}
		if c.Key.Title == 0 {
			return nil, bad("product_id is required")
		}
		if _, ok := rw["metric_id"]; !ok {
			return nil, bad("metric_id is required")
		}
		out = append(out, c)
	}
	return out, nil
}
