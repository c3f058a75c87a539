package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
)

// storeCommand parses the flags every store-reading command shares and
// opens the engine. arg names the one argument the command takes ("" for
// none). It returns nil after reporting a problem.
func storeCommand(name string, args []string, stderr io.Writer, arg string, extra func(*flag.FlagSet)) (*engine.Engine, *flag.FlagSet, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "store: a directory, badger:DIR or postgres://…")
	fs.StringVar(db, "store", "", "the same as --db")
	rulesFile := fs.String("rules", "", "rule file (default: the built-in rule pack)")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, exitUsage
	}
	nargs := 0
	if arg != "" {
		nargs = 1
	}
	if *db == "" || fs.NArg() != nargs {
		fmt.Fprintf(stderr, "irego %s: need --db DIR", name)
		if arg != "" {
			fmt.Fprint(stderr, " and one "+arg)
		}
		fmt.Fprintln(stderr)
		return nil, nil, exitUsage
	}
	e, err := openEngine(*db, *rulesFile)
	if err != nil {
		fmt.Fprintf(stderr, "irego %s: %v\n", name, err)
		return nil, nil, exitFail
	}
	for _, w := range storeWarnings(e) {
		fmt.Fprintf(stderr, "irego %s: warning: %s\n", name, w)
	}
	return e, fs, exitOK
}

// cmdHistory prints a CI's changes, or with --as-of the CI as it was then.
func cmdHistory(args []string, stdout, stderr io.Writer) int {
	var asOf string
	e, fs, code := storeCommand("history", args, stderr, "sys_id", func(fs *flag.FlagSet) {
		fs.StringVar(&asOf, "as-of", "", "print the CI as it was at this time (RFC 3339, e.g. 2026-11-01T00:00:00Z)")
	})
	if e == nil {
		return code
	}
	defer e.Close()
	ctx, id := context.Background(), fs.Arg(0)
	var v any
	var err error
	if asOf != "" {
		t, perr := time.Parse(time.RFC3339, asOf)
		if perr != nil {
			fmt.Fprintf(stderr, "irego history: --as-of: %v\n", perr)
			return exitUsage
		}
		v, err = e.AsOf(ctx, id, t)
	} else {
		v, err = e.History(ctx, id)
	}
	if errors.Is(err, engine.ErrNotFound) {
		fmt.Fprintf(stderr, "irego history: no CI with sys_id %s (at that time)\n", id)
		return exitFail
	}
	if err != nil {
		fmt.Fprintf(stderr, "irego history: %v\n", err)
		return exitFail
	}
	return printJSON(stdout, stderr, v)
}

// cmdPartials lists the partial payloads waiting for completion and the
// incomplete items kept for inspection.
func cmdPartials(args []string, stdout, stderr io.Writer) int {
	e, _, code := storeCommand("partials", args, stderr, "", nil)
	if e == nil {
		return code
	}
	defer e.Close()
	partials, err := e.Partials()
	if err != nil {
		fmt.Fprintf(stderr, "irego partials: %v\n", err)
		return exitFail
	}
	incomplete, err := e.Incomplete()
	if err != nil {
		fmt.Fprintf(stderr, "irego partials: %v\n", err)
		return exitFail
	}
	return printJSON(stdout, stderr, map[string]any{"partial": nonNil(partials), "incomplete": nonNil(incomplete)})
}

// cmdStale lists, retires or deletes the CIs one source alone created and
// no longer reports. Retiring and deleting need the start of the source's
// last full run (or --yes to take now), and say what goes before it goes.
func cmdStale(args []string, stdout, stderr io.Writer) int {
	var source, runStart, retention, action string
	var yes bool
	e, _, code := storeCommand("stale", args, stderr, "", func(fs *flag.FlagSet) {
		fs.StringVar(&source, "source", "", "the data source whose CIs to look at")
		fs.StringVar(&runStart, "run-start", "", "start of the source's last full run (RFC 3339); needed to retire or delete unless --yes")
		fs.StringVar(&retention, "retention", "30d", "keep CIs last reported within this period (e.g. 30d, 12h)")
		fs.StringVar(&action, "action", "list", "list (dry run), retire or delete")
		fs.BoolVar(&yes, "yes", false, "retire or delete without --run-start, taking now as the run's start")
	})
	if e == nil {
		return code
	}
	defer e.Close()
	q := engine.StaleQuery{Source: source, RunStart: time.Now()}
	var err error
	if runStart != "" {
		if q.RunStart, err = time.Parse(time.RFC3339, runStart); err != nil {
			fmt.Fprintf(stderr, "irego stale: --run-start: %v\n", err)
			return exitUsage
		}
	}
	if q.Retention, err = rules.ParseDuration(retention); err != nil {
		fmt.Fprintf(stderr, "irego stale: --retention: %v\n", err)
		return exitUsage
	}
	switch action {
	case "list":
	case "retire":
		q.Action = engine.StaleRetire
	case "delete":
		q.Action = engine.StaleDelete
	default:
		fmt.Fprintf(stderr, "irego stale: --action %q: want list, retire or delete\n", action)
		return exitUsage
	}
	ctx := context.Background()
	if q.Action != engine.StaleList {
		if runStart == "" && !yes {
			fmt.Fprintf(stderr, "irego stale: --action %s needs --run-start TIME, the start of %s's last full run (or --yes to take now)\n", action, source)
			return exitUsage
		}
		list := q
		list.Action = engine.StaleList
		found, err := e.Stale(ctx, list)
		if err != nil {
			fmt.Fprintf(stderr, "irego stale: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(stderr, "irego stale: will %s %d CIs %s alone created and last reported before %s (unless another CI depends on them):\n",
			action, len(found), source, earlier(q.RunStart, time.Now().Add(-q.Retention)).Format(time.RFC3339))
		for _, s := range found {
			fmt.Fprintf(stderr, "  %s %s last reported %s\n", s.SysID, s.Class, s.LastScan.Format(time.RFC3339))
		}
	}
	found, err := e.Stale(ctx, q)
	if err != nil {
		fmt.Fprintf(stderr, "irego stale: %v\n", err)
		return exitFail
	}
	return printJSON(stdout, stderr, nonNil(found))
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
