package ui

import (
	"slices"
	"sync"
	"time"

	"github.com/irego/irego/engine"
)

// recentCap bounds how many CIs' last reports the console remembers.
const recentCap = 20_000

// report is what the console learnt of the last report that wrote a CI:
// the identification attempts and the attributes the source could not
// change.
type report struct {
	At        time.Time
	Operation string
	Class     string
	Entry     string
	Attempts  []engine.Attempt
	Masked    []string
}

// recentReports is an engine.Observer that keeps the last committed
// report of each CI, forgetting the oldest CI past its cap.
type recentReports struct {
	cap   int
	now   func() time.Time
	mu    sync.Mutex
	byID  map[string]*report
	order []string // sys_ids, oldest first; may hold stale entries
}

func newRecentReports(n int, now func() time.Time) *recentReports {
	return &recentReports{cap: n, now: now, byID: map[string]*report{}}
}

// Applied keeps the items of committed results.
func (k *recentReports) Applied(committed bool, results []*engine.Result) {
	if !committed {
		return // Identify: nothing was written
	}
	at := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, res := range results {
		for _, items := range [][]engine.ItemResult{res.Items, res.AdditionalCommittedItems} {
			for i := range items {
				it := &items[i]
				if !sysIDPattern.MatchString(it.SysID) {
					continue // failed, partial or incomplete: no CI to show it on
				}
				k.put(it.SysID, &report{At: at, Operation: it.Operation, Class: it.ClassName, Entry: it.IdentifierEntrySysID,
					Attempts: slices.Clone(it.IdentificationAttempts), Masked: slices.Clone(it.MaskedAttributes)})
			}
		}
	}
}

func (k *recentReports) put(id string, r *report) {
	if _, ok := k.byID[id]; !ok {
		k.order = append(k.order, id)
	}
	k.byID[id] = r
	for len(k.byID) > k.cap {
		delete(k.byID, k.order[0])
		k.order = k.order[1:]
	}
	if len(k.order) > 2*k.cap { // compact what repeated writes left behind
		k.order = slices.DeleteFunc(k.order, func(s string) bool { return k.byID[s] == nil })
	}
}

func (k *recentReports) Committed(int, int) {}
func (k *recentReports) Retried()           {}

// get returns the last report of a CI, or nil.
func (k *recentReports) get(id string) *report {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.byID[id]
}
