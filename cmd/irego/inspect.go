package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// storeCommand parses the flags every store-reading command shares and
// opens the engine, or with --server (when the command takes it) the
// remote server. arg names the one argument the command takes ("" for
// none). It returns neither after reporting a problem.
func storeCommand(name string, args []string, stderr io.Writer, arg string, extra func(*flag.FlagSet)) (*engine.Engine, *flag.FlagSet, int) {
	e, _, fs, code := storeOrServer(name, args, stderr, arg, false, extra)
	return e, fs, code
}

// storeOrServer is storeCommand for the commands that also take --server.
func storeOrServer(name string, args []string, stderr io.Writer, arg string, remoteOK bool, extra func(*flag.FlagSet)) (*engine.Engine, *remote, *flag.FlagSet, int) {
	fs := newFlags(name)
	db := fs.String("db", "", "store: a directory, badger:DIR or postgres://…")
	fs.StringVar(db, "store", "", "the same as --db")
	rulesFile := fs.String("rules", "", "rule file (default: the built-in rule pack)")
	var server *string
	if remoteOK {
		server = fs.String("server", "", "ask the running irego serve at this URL instead of opening the store (user and password from IREGO_USER, IREGO_PASSWORD)")
	}
	if extra != nil {
		extra(fs)
	}
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return nil, nil, nil, code
	}
	nargs := 0
	if arg != "" {
		nargs = 1
	}
	remoteAsked := server != nil && *server != ""
	if (*db == "") == !remoteAsked || fs.NArg() != nargs || (remoteAsked && *rulesFile != "") {
		need := "--db DIR"
		if remoteOK {
			need = "--db DIR or --server URL (not both; --rules only with --db)"
		}
		fmt.Fprintf(stderr, "irego %s: need %s", name, need)
		if arg != "" {
			fmt.Fprint(stderr, " and one "+arg)
		}
		fmt.Fprintf(stderr, " (irego help %s)\n", name)
		return nil, nil, nil, exitUsage
	}
	if remoteAsked {
		r, err := newRemote(*server)
		if err != nil {
			fmt.Fprintf(stderr, "irego %s: %v\n", name, err)
			return nil, nil, nil, exitUsage
		}
		return nil, r, fs, exitOK
	}
	// check reads only: it opens the store read-only and never changes it.
	e, err := openEngineWith(*db, *rulesFile, engine.Options{ReadOnly: name == "check"})
	if err != nil {
		fmt.Fprintf(stderr, "irego %s: %v\n", name, inUse(err, *db, name, remoteOK))
		return nil, nil, nil, exitFail
	}
	for _, w := range storeWarnings(e) {
		fmt.Fprintf(stderr, "irego %s: warning: %s\n", name, w)
	}
	return e, nil, fs, exitOK
}

// inUse explains the error of opening a store another process holds
// (Badger's directory lock): most likely a running server, which the
// command can ask instead.
func inUse(err error, db, name string, remoteOK bool) error {
	if !strings.Contains(err.Error(), "directory lock") && !strings.Contains(err.Error(), "Cannot acquire") {
		return err
	}
	hint := "stop it first"
	if remoteOK {
		hint = fmt.Sprintf("ask it instead: irego %s --server http://127.0.0.1:8080 … (user and password from IREGO_USER, IREGO_PASSWORD)", name)
	}
	return fmt.Errorf("the store %s is in use by another process, probably a running irego serve; %s", db, hint)
}

// cmdHistory prints a CI's changes, or with --as-of the CI as it was then.
func cmdHistory(args []string, stdout, stderr io.Writer) int {
	var asOf string
	e, rem, fs, code := storeOrServer("history", args, stderr, "sys_id", true, func(fs *flag.FlagSet) {
		fs.StringVar(&asOf, "as-of", "", "print the CI as it was at this time (RFC 3339, e.g. 2026-11-01T00:00:00Z)")
	})
	if fs == nil {
		return code
	}
	ctx, id := context.Background(), fs.Arg(0)
	var t time.Time
	if asOf != "" {
		var perr error
		if t, perr = time.Parse(time.RFC3339, asOf); perr != nil {
			fmt.Fprintf(stderr, "irego history: --as-of: %v\n", perr)
			return exitUsage
		}
	}
	var v any
	var err error
	switch {
	case rem != nil && asOf != "":
		snap := &engine.Snapshot{}
		v, err = snap, rem.call("GET", "/api/irego/ci/"+url.PathEscape(id)+"/history?as_of="+url.QueryEscape(asOf), nil, snap)
	case rem != nil:
		changes := &[]store.Change{}
		v, err = changes, rem.call("GET", "/api/irego/ci/"+url.PathEscape(id)+"/history", nil, changes)
	case asOf != "":
		defer e.Close()
		v, err = e.AsOf(ctx, id, t)
	default:
		defer e.Close()
		v, err = e.History(ctx, id)
	}
	if errors.Is(err, engine.ErrNotFound) || errors.Is(err, errNotFound) {
		fmt.Fprintf(stderr, "irego history: no CI with sys_id %s (at that time)\n", id)
		return exitFail
	}
	if err != nil {
		fmt.Fprintf(stderr, "irego history: %v\n", err)
		return exitFail
	}
	return printJSON("history", stdout, stderr, v)
}

// cmdPartials lists the partial payloads waiting for completion and the
// incomplete items kept for inspection.
func cmdPartials(args []string, stdout, stderr io.Writer) int {
	e, rem, fs, code := storeOrServer("partials", args, stderr, "", true, nil)
	if fs == nil {
		return code
	}
	if rem != nil {
		var v struct {
			Partial    []engine.PartialPayload `json:"partial"`
			Incomplete []engine.IncompleteItem `json:"incomplete"`
		}
		if err := rem.call("GET", "/api/irego/partials", nil, &v); err != nil {
			fmt.Fprintf(stderr, "irego partials: %v\n", err)
			return exitFail
		}
		return printJSON("partials", stdout, stderr, map[string]any{"partial": nonNil(v.Partial), "incomplete": nonNil(v.Incomplete)})
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
	return printJSON("partials", stdout, stderr, map[string]any{"partial": nonNil(partials), "incomplete": nonNil(incomplete)})
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
	return printJSON("stale", stdout, stderr, nonNil(found))
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
