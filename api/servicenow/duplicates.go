package servicenow

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

// The tables of de-duplication tasks, as ServiceNow names them: a task per
// group of duplicate CIs, and a duplicate_audit_result row per CI of a task.
const (
	taskTable  = "reconcile_duplicate_task"
	auditTable = "duplicate_audit_result"
)

var dedupTables = map[string]bool{taskTable: true, auditTable: true}

// taskStates are ServiceNow's task states for irego's task states.
var taskStates = map[string]string{engine.TaskOpen: "1", engine.TaskMerged: "3", engine.TaskDismissed: "7"}

// taskRow renders a task as a reconcile_duplicate_task row.
func taskRow(t *engine.DuplicateTask) map[string]string {
	var shared []string
	for k, v := range t.Values {
		shared = append(shared, k+"="+payload.Canonical(v))
	}
	sort.Strings(shared)
	return map[string]string{
		"sys_id":            t.SysID,
		"number":            t.Number,
		"state":             taskStates[t.State],
		"active":            fmt.Sprint(t.State == engine.TaskOpen),
		"short_description": fmt.Sprintf("%d duplicate CIs share %s", len(t.CIs), strings.Join(shared, ", ")),
		"description":       fmt.Sprintf("identifier entry %s [%s]; found by %s", t.Entry, strings.Join(t.Attributes, ", "), t.Source),
		"work_notes":        strings.Join(t.Notes, "\n"),
		"sys_class_name":    taskTable,
		"sys_created_on":    t.Created.UTC().Format(time.DateTime),
		"sys_updated_on":    t.Updated.UTC().Format(time.DateTime),
	}
}

// auditRows renders a task's CIs as duplicate_audit_result rows. A row's
// sys_id is derived from the task and the CI, so it stays the same.
func auditRows(t *engine.DuplicateTask) []map[string]string {
	out := make([]map[string]string, 0, len(t.CIs))
	for _, ci := range t.CIs {
		sum := md5.Sum([]byte(t.SysID + "/" + ci))
		out = append(out, map[string]string{
			"sys_id":         hex.EncodeToString(sum[:]),
			"follow_on_task": t.SysID,
			"duplicate_ci":   ci,
			"audit_type":     "duplicate",
			"sys_class_name": auditTable,
			"sys_created_on": t.Created.UTC().Format(time.DateTime),
			"sys_updated_on": t.Updated.UTC().Format(time.DateTime),
		})
	}
	return out
}

// dedupRows loads every row of the requested de-duplication table that
// matches q.
func (h *handler) dedupRows(r *http.Request, q *query) ([]map[string]string, *api.Error) {
	ts, err := h.e.DuplicateTasks(r.Context(), "")
	if err != nil {
		return nil, engineError(err)
	}
	var rows []map[string]string
	for _, t := range ts {
		all := []map[string]string{taskRow(t)}
		if r.PathValue("class") == auditTable {
			all = auditRows(t)
		}
		for _, m := range all {
			if q.match(m) {
				rows = append(rows, m)
			}
		}
	}
	return rows, nil
}

// GET /api/now/table/{reconcile_duplicate_task|duplicate_audit_result}/{sys_id}
func (h *handler) dedupGet(w http.ResponseWriter, r *http.Request) {
	rows, e := h.dedupRows(r, &query{})
	if e != nil {
		writeError(w, r, e)
		return
	}
	for _, m := range rows {
		if m["sys_id"] == r.PathValue("sys_id") {
			api.WriteJSON(w, http.StatusOK, map[string]any{"result": project(m, fieldsParam(r))})
			return
		}
	}
	writeError(w, r, notFound())
}
