package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/backend"
)

func cmdApply(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "store: a directory (created if missing), badger:DIR or postgres://…")
	fs.StringVar(db, "store", "", "the same as --db")
	source := fs.String("source", "", "data source of the payload, e.g. ServiceNow or SCCM")
	options := fs.String("options", "", "enhanced options, name:value,... (partial_payloads, partial_commits, deduplicate_payloads, generate_summary)")
	rulesFile := fs.String("rules", "", "rule file (default: the built-in rule pack)")
	dryRun := fs.Bool("dry-run", false, "identify only: print what would happen, write nothing")
	explain := fs.Bool("explain", false, "print, for people, how each item was identified and reconciled instead of the JSON result")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *db == "" || *source == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "irego apply: need --db DIR, --source NAME and one payload file (or - for stdin)")
		return exitUsage
	}
	opts, err := engine.ParseApplyOptions(*options)
	if err != nil {
		fmt.Fprintf(stderr, "irego apply: --options: %v\n", err)
		return exitUsage
	}
	p, err := readPayload(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "irego apply: %s: %v\n", fs.Arg(0), err)
		return exitFail
	}
	e, err := openEngine(*db, *rulesFile)
	if err != nil {
		fmt.Fprintf(stderr, "irego apply: %v\n", err)
		return exitFail
	}
	defer e.Close()
	for _, w := range storeWarnings(e) {
		fmt.Fprintf(stderr, "irego apply: warning: %s\n", w)
	}
	do := e.Apply
	if *dryRun {
		do = e.Identify
	}
	opts.Explain = opts.Explain || *explain
	res, err := do(context.Background(), *source, p, opts)
	if err != nil {
		fmt.Fprintf(stderr, "irego apply: %v\n", err)
		return exitFail
	}
	if *explain {
		for _, it := range res.Items {
			fmt.Fprint(stdout, it.Explanation)
		}
		return exitOK
	}
	return printJSON(stdout, stderr, res)
}

func readPayload(name string, stdin io.Reader) (*payload.Payload, error) {
	if name == "-" {
		return payload.Decode(stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return payload.Decode(f)
}

func openEngine(db, rulesFile string) (*engine.Engine, error) {
	return openEngineWith(db, rulesFile, engine.Options{})
}

// openEngineWith opens the engine with opts on the store db names (a
// directory, badger:DIR or postgres://…, see store/backend), the rules read
// from rulesFile (the built-in pack when it is "").
func openEngineWith(db, rulesFile string, opts engine.Options) (*engine.Engine, error) {
	if rulesFile != "" {
		var err error
		if opts.Rules, err = rules.LoadFile(rulesFile); err != nil {
			return nil, err
		}
	}
	open := func(ctx context.Context, spec string) (store.Store, error) {
		return backend.OpenURL(ctx, spec, opts.SyncWrites)
	}
	if opts.ReadOnly {
		open = backend.OpenReadOnly
	}
	st, err := open(context.Background(), db)
	if err != nil {
		return nil, err
	}
	opts.Store = st
	return engine.Open(db, opts)
}

// storeWarnings are what opening the store found worth telling, such as a
// directory other users may read.
func storeWarnings(e *engine.Engine) []string {
	if w, ok := e.Store().(interface{ Warnings() []string }); ok {
		return w.Warnings()
	}
	return nil
}

func printJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "irego: %v\n", err)
		return exitFail
	}
	return exitOK
}
