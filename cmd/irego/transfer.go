package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/irego/irego/tableapi"
	"github.com/irego/irego/transfer"
)

// cmdImport loads another CMDB into a store: irego import servicenow.
func cmdImport(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && isHelp(args[:1]) {
		printHelp(stderr, "import", nil)
		return exitOK
	}
	if len(args) == 0 || args[0] != "servicenow" {
		fmt.Fprintln(stderr, "irego import: need the kind of CMDB: irego import servicenow --db DIR EXPORT_DIR|URL (irego help import servicenow)")
		return exitUsage
	}
	var user, query, cpuProfile, memProfile string
	var pageSize, every int
	e, fs, code := storeCommand("import servicenow", args[1:], stderr, "EXPORT_DIR|URL", func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "instance user (the password comes from IREGO_SN_PASSWORD)")
		fs.StringVar(&query, "query", "", "sysparm_query added to every instance request, e.g. active=true")
		fs.IntVar(&pageSize, "page-size", 1000, "records per instance request")
		fs.IntVar(&every, "every", 10000, "records between progress lines and checkpoints")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the import to this file (go tool pprof)")
		fs.StringVar(&memProfile, "memprofile", "", "write a heap profile at the end of the import to this file")
	})
	if e == nil {
		return code
	}
	defer e.Close()
	src, err := tableapi.Open(fs.Arg(0), tableapi.Options{User: user, Password: os.Getenv("IREGO_SN_PASSWORD"), PageSize: pageSize, Query: query})
	if err != nil {
		fmt.Fprintf(stderr, "irego import servicenow: %v\n", err)
		return exitFail
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	stopProfiles, err := startProfiles(cpuProfile, memProfile)
	if err != nil {
		fmt.Fprintf(stderr, "irego import servicenow: profile: %v\n", err)
		return exitFail
	}
	started := time.Now()
	defer func() {
		if err := stopProfiles(); err != nil {
			fmt.Fprintf(stderr, "irego import servicenow: profile: %v\n", err)
		}
	}()
	st, err := transfer.Import(ctx, e, src, transfer.ImportOptions{Progress: stdout, Every: every})
	for _, w := range st.Warnings {
		fmt.Fprintf(stderr, "skipped: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "irego import servicenow: %v (run the same command again to go on from the last checkpoint)\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "imported %d CIs, %d related records, %d relations, %d native keys from %s in %s; %d skipped; %d de-duplication tasks\n",
		st.CIs, st.Related, st.Edges, st.NativeKeys, src, time.Since(started).Round(time.Millisecond), st.Skipped, len(st.Tasks))
	for _, t := range st.Tasks {
		fmt.Fprintf(stdout, "  %s: %s share %s\n", t.Number, strings.Join(t.CIs, ", "), t.Entry)
	}
	for _, c := range slices.Sorted(maps.Keys(st.SkippedClasses)) {
		fmt.Fprintf(stdout, "skipped class %s: %d rows (the rules do not declare it a CI class; add it to a rule file, e.g. one irego rules import writes)\n", c, st.SkippedClasses[c])
	}
	for _, t := range slices.Sorted(maps.Keys(st.UnreadTables)) {
		fmt.Fprintf(stdout, "table not read %s: %d rows (no class of the rules)\n", t, st.UnreadTables[t])
	}
	problems, err := e.Check(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "irego import servicenow: check: %v\n", err)
		return exitFail
	}
	for _, p := range problems {
		fmt.Fprintln(stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "check: %d problems\n", len(problems))
		return exitFail
	}
	fmt.Fprintln(stdout, "check: ok")
	return exitOK
}

// cmdExport writes a store out in another tool's shape.
func cmdExport(args []string, stdout, stderr io.Writer) int {
	var format, class, since, out string
	e, _, code := storeCommand("export", args, stderr, "", func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "", "servicenow, ire, csv, graphml or jsonl")
		fs.StringVar(&class, "class", "", "only CIs of this class and its subclasses")
		fs.StringVar(&since, "since", "", "only CIs updated at or after this time (RFC 3339 or 2006-01-02 15:04:05, UTC)")
		fs.StringVar(&out, "out", "", "directory to write the files to, or - for stdout (ire, graphml, jsonl)")
	})
	if e == nil {
		return code
	}
	defer e.Close()
	o := transfer.ExportOptions{Format: format, Class: class}
	if since != "" {
		t, ok := parseSince(since)
		if !ok {
			fmt.Fprintf(stderr, "irego export: --since %q: want RFC 3339 (2024-05-01T00:00:00Z) or 2024-05-01 00:00:00\n", since)
			return exitUsage
		}
		o.Since = t
	}
	switch out {
	case "":
		fmt.Fprintln(stderr, "irego export: need --out DIR (or - for stdout)")
		return exitUsage
	case "-":
		o.W = stdout
	default:
		o.Dir = out
	}
	st, err := transfer.Export(context.Background(), e, o)
	if err != nil {
		fmt.Fprintf(stderr, "irego export: %v\n", err)
		return exitFail
	}
	if o.Dir != "" {
		fmt.Fprintf(stdout, "exported %d CIs, %d related records, %d relations, %d native keys to %d files in %s\n",
			st.CIs, st.Related, st.Edges, st.NativeKeys, len(st.Files), o.Dir)
	}
	return exitOK
}

func parseSince(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, transfer.TimeLayout, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
