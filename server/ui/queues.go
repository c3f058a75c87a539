package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/engine"
)

// defaultStaleDays is how long a source's silence makes its CIs stale on
// the queues page, unless the page asks otherwise.
const defaultStaleDays = 30

type queuesData struct {
	Partials   []engine.PartialPayload
	Incomplete []engine.IncompleteItem
	Sources    []string
	Stale      *staleData
	Tasks      []*engine.DuplicateTask
	Names      map[string]string
}

type staleData struct {
	Source string
	Days   int
	CIs    []engine.StaleCI
}

// issues renders an item's errors on one line.
func issues(is []engine.Issue) string {
	var b strings.Builder
	for i, x := range is {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x.Code + ": " + x.Message)
	}
	return b.String()
}

// queues lists partial payloads, incomplete items and open de-duplication
// tasks, and the stale CIs of one source when asked: finding stale CIs
// reads every CI, so it runs for the source chosen only.
func (c *Console) queues(r *http.Request, v *view) (string, error) {
	ctx := r.Context()
	e := c.cfg.Engine
	d := &queuesData{Sources: e.Sources(), Names: map[string]string{}}
	v.Title, v.Data = "Queues", d
	var err error
	if d.Partials, err = e.Partials(); err != nil {
		return "", err
	}
	if d.Incomplete, err = e.Incomplete(); err != nil {
		return "", err
	}
	if d.Tasks, err = e.DuplicateTasks(ctx, engine.TaskOpen); err != nil {
		return "", err
	}
	for _, t := range d.Tasks {
		for _, id := range t.CIs {
			if rec, err := e.Record(ctx, id); err == nil {
				d.Names[id] = text(rec.Values["name"])
			}
		}
	}
	if src := r.URL.Query().Get("stale"); src != "" {
		days, err := strconv.Atoi(r.URL.Query().Get("days"))
		if err != nil || days < 0 {
			days = defaultStaleDays
		}
		since := c.cfg.Now().Add(-time.Duration(days) * 24 * time.Hour)
		cis, err := e.Stale(ctx, engine.StaleQuery{Source: src, RunStart: since, Action: engine.StaleList})
		if err != nil {
			return "", err
		}
		d.Stale = &staleData{Source: src, Days: days, CIs: cis}
	}
	return "queues.html", nil
}

// merge folds an open de-duplication task's CIs into its oldest (admins).
func (c *Console) merge(r *http.Request, v *view) (string, error) {
	res, err := c.cfg.Engine.MergeDuplicates(r.Context(), r.PathValue("id"), engine.MergeOptions{Source: "console:" + v.User.Name})
	if err := taskError(err); err != nil {
		return "", err
	}
	return c.afterTask(r, v, "Task "+res.Task.Number+" merged: "+strconv.Itoa(len(res.Merged))+" CI(s) folded into "+res.Main+".")
}

// dismiss closes a task without merging (admins).
func (c *Console) dismiss(r *http.Request, v *view) (string, error) {
	t, err := c.cfg.Engine.DismissDuplicates(r.Context(), r.PathValue("id"), "dismissed in the console by "+v.User.Name)
	if err := taskError(err); err != nil {
		return "", err
	}
	return c.afterTask(r, v, "Task "+t.Number+" dismissed.")
}

// afterTask sends the browser back to the queues with a notice.
func (c *Console) afterTask(_ *http.Request, v *view, notice string) (string, error) {
	v.Notice, v.redirect = notice, "/ui/queues"
	return "", nil
}

func taskError(err error) error {
	switch {
	case errors.Is(err, engine.ErrTaskNotFound):
		return errorf(http.StatusNotFound, "No de-duplication task has that id.")
	case errors.Is(err, engine.ErrTaskClosed):
		return errorf(http.StatusConflict, "That de-duplication task is closed already.")
	}
	return err
}
