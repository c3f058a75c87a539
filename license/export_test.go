package license

import (
	"cmp"
	"context"
	"slices"
)

// SetInstallPage sets how many installs an import reads in one store
// view, for tests that cross pages with a few, and returns the undo.
func SetInstallPage(n int) (undo func()) {
	old := installPage
	installPage = n
	return func() { installPage = old }
}

// ServerUsageFromDims is ServerUsage as it was before it read a row at a
// time: every computer system loaded first. Tests compare the two.
func ServerUsageFromDims(m *Manager, ctx context.Context, group int, d string) ([]ServerUsage, error) {
	var out []ServerUsage
	err := m.read(func(s *snapshot) error {
		return s.serverUsage(ctx, group, d, func(su *ServerUsage, _ *serverTotal) { out = append(out, *su) })
	})
	slices.SortFunc(out, func(a, b ServerUsage) int {
		return cmp.Or(cmp.Compare(a.Title.ID, b.Title.ID), cmp.Compare(a.Metric.CodeName, b.Metric.CodeName), cmp.Compare(a.Server.ID, b.Server.ID))
	})
	return out, err
}

// PeaksFromDims is Peaks as it was before it read a row at a time.
func PeaksFromDims(m *Manager, ctx context.Context) ([]PeakUsage, error) {
	var out []PeakUsage
	err := m.read(func(s *snapshot) error {
		if s.rec.Current == 0 {
			return nil
		}
		return s.peaks(ctx, func(p PeakUsage) error { out = append(out, p); return nil })
	})
	return out, err
}
