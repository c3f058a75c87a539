package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime/debug"
	"strings"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/backend"
)

func cmdApply(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("apply")
	db := fs.String("db", "", "store: a directory (created if missing), badger:DIR or postgres://…")
	fs.StringVar(db, "store", "", "the same as --db")
	server := fs.String("server", "", "apply through the running irego serve at this URL instead of opening the store (user and password from IREGO_USER, IREGO_PASSWORD)")
	source := fs.String("source", "", "data source of the payload, e.g. ServiceNow or SCCM")
	options := fs.String("options", "", "enhanced options, name:value,... (partial_payloads, partial_commits, deduplicate_payloads, generate_summary)")
	rulesFile := fs.String("rules", "", "rule file (default: the built-in rule pack; not with --server)")
	dryRun := fs.Bool("dry-run", false, "identify only: print what would happen, write nothing")
	explain := fs.Bool("explain", false, "print, for people, how each item was identified and reconciled instead of the JSON result")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if (*db == "") == (*server == "") || *source == "" || fs.NArg() != 1 || (*server != "" && *rulesFile != "") {
		fmt.Fprintln(stderr, "irego apply: need --db DIR or --server URL (not both; --rules only with --db), --source NAME and one payload file (or - for stdin); see irego help apply")
		return exitUsage
	}
	opts, err := engine.ParseApplyOptions(*options)
	if err != nil {
		fmt.Fprintf(stderr, "irego apply: --options: %v\n", err)
		return exitUsage
	}
	opts.Explain = opts.Explain || *explain
	var res *engine.Result
	if *server != "" {
		res, err = applyRemote(*server, *source, *options, *dryRun, *explain, fs.Arg(0), stdin)
	} else {
		res, err = applyLocal(*db, *rulesFile, *source, opts, *dryRun, fs.Arg(0), stdin, stderr)
	}
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
	return printJSON("apply", stdout, stderr, res)
}

func applyLocal(db, rulesFile, source string, opts engine.ApplyOptions, dryRun bool, file string, stdin io.Reader, stderr io.Writer) (*engine.Result, error) {
	p, err := readPayload(file, stdin)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	e, err := openEngine(db, rulesFile)
	if err != nil {
		return nil, inUse(err, db, "apply", true)
	}
	defer e.Close()
	for _, w := range storeWarnings(e) {
		fmt.Fprintf(stderr, "irego apply: warning: %s\n", w)
	}
	do := e.Apply
	if dryRun {
		do = e.Identify
	}
	return do(context.Background(), source, p, opts)
}

// applyRemote posts the payload to the server's enhanced IRE API (its
// query variant for a dry run), with the same options.
func applyRemote(server, source, options string, dryRun, explain bool, file string, stdin io.Reader) (*engine.Result, error) {
	r, err := newRemote(server)
	if err != nil {
		return nil, err
	}
	var body []byte
	if file == "-" {
		body, err = io.ReadAll(stdin)
	} else {
		body, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	if explain {
		options = strings.TrimPrefix(options+",explain:true", ",")
	}
	path := "/api/now/identifyreconcile/enhanced"
	if dryRun {
		path = "/api/now/identifyreconcile/queryEnhanced"
	}
	q := url.Values{"sysparm_data_source": {source}}
	if options != "" {
		q.Set("options", options)
	}
	var res engine.Result
	if err := r.call("POST", path+"?"+q.Encode(), body, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &res, nil
}

// readPayload reads a payload file (- for stdin), refusing invalid UTF-8
// and duplicate keys as the server does.
func readPayload(name string, stdin io.Reader) (*payload.Payload, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	if err := api.CheckJSON(b); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return payload.DecodeBytes(b)
}

func openEngine(db, rulesFile string) (*engine.Engine, error) {
	return openEngineWith(db, rulesFile, engine.Options{})
}

// openEngineWith opens the engine with opts on the store db names (a
// directory, badger:DIR or postgres://…, see store/backend), the rules read
// from rulesFile; without one, the rules the store records (the built-in
// pack for a store that records none).
func openEngineWith(db, rulesFile string, opts engine.Options) (*engine.Engine, error) {
	return openEngineWrapped(db, rulesFile, opts, nil)
}

// openEngineWrapped is openEngineWith with the store wrapped by wrap
// (when not nil) under the engine.
func openEngineWrapped(db, rulesFile string, opts engine.Options, wrap func(store.Store) store.Store) (*engine.Engine, error) {
	if rulesFile == "" {
		opts.AdoptStoredRules = true
	} else {
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
	if store.IsShared(st) {
		collectLessOften()
	}
	if wrap != nil {
		st = wrap(st)
	}
	opts.Store = st
	return engine.Open(db, opts)
}

// collectLessOften lets the heap grow to five times what is live between
// collections instead of twice (GOGC=400), unless GOGC says otherwise,
// for a store that lives in a database server: irego's heap then holds
// little more than the batch at hand (about 25 MiB with --batch 100), so
// it was collected, and its freed pages returned to the system, often
// enough to take a quarter of irego's CPU (irego bench --store
// postgres://… --batch 100: GOGC=200 gave 13% more items/s than the
// default, 36–39 MiB instead of 26–28 at most; 400 11% more again, 52–63
// MiB; 800 no more than 400, over 100 MiB). On Badger the default stays:
// its heap grows with the store.
func collectLessOften() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercentShared)
	}
}

// gcPercentShared is the GOGC of a process whose store is a database
// server's.
const gcPercentShared = 400

// storeWarnings are what opening the store found worth telling, such as a
// directory other users may read.
func storeWarnings(e *engine.Engine) []string {
	if w, ok := e.Store().(interface{ Warnings() []string }); ok {
		return w.Warnings()
	}
	return nil
}

func printJSON(cmd string, stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "irego %s: %v\n", cmd, err)
		return exitFail
	}
	return exitOK
}
