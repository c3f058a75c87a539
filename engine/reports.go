package engine

import (
	"github.com/irego/irego/identify"
	"github.com/irego/irego/store"
)

// writeReports keeps, per CI, what source has now reported of the
// attributes a multi-source reconciliation policy decides, so later
// payloads from other sources choose among every source's last report.
// It writes also when the CI itself does not change.
func writeReports(txn store.Txn, plan *identify.Plan, source string) (int, error) {
	n := 0
	for _, t := range plan.Targets {
		if len(t.Errors) > 0 || t.Reports == nil || len(t.Inputs)+len(t.Related) == 0 {
			continue
		}
		b, err := store.EncodeReports(t.Reports)
		if err != nil {
			return n, err
		}
		if err := txn.Set(store.ReportKey(t.SysID, source), b); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// reportKeys lists the kept reports of a CI, for deleting it.
func reportKeys(r store.Reader, sysID string) ([][]byte, error) {
	var keys [][]byte
	err := r.Iterate(store.ReportPrefix(sysID), func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	return keys, err
}
