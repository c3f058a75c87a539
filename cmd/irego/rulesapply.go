package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store/backend"
)

// rulesHint adds to a RulesMismatchError what to do about it.
func rulesHint(err error, db string) error {
	if !errors.Is(err, engine.ErrRulesMismatch) {
		return err
	}
	spec := backend.Redact(db)
	return fmt.Errorf("%w.\nTo resolve: start with --adopt-stored-rules (or without --rules) to use the store's rules; "+
		"or start with the same rule file (irego rules status --store %s --source prints it); "+
		"or make your rules every process's with irego rules apply --store %s FILE", err, spec, spec)
}

// cmdRulesApply makes a rule file the rules of every process on a store.
func cmdRulesApply(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("rules apply")
	db := fs.String("store", "", "store: a directory, badger:DIR or postgres://…")
	fs.StringVar(db, "db", "", "the same as --store")
	lease := fs.Duration("lease", engine.DefaultLeaseTTL, "lease time of the reindex, renewed every third of it; another process takes it over once it expires")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if *db == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "irego rules apply: need --store SPEC and one rule file (- reads standard input) (irego help rules apply)")
		return exitUsage
	}
	rs, err := loadRuleFile(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "irego rules apply: %v\n", err)
		return exitFail
	}
	ctx := context.Background()
	st, err := backend.OpenURL(ctx, *db, false)
	if err != nil {
		fmt.Fprintf(stderr, "irego rules apply: %v\n", inUse(err, *db, "rules apply", false))
		return exitFail
	}
	defer st.Close()
	began := time.Now()
	ch, err := engine.ChangeRules(ctx, st, rs, engine.RuleChangeOptions{LeaseTTL: *lease})
	if err != nil {
		fmt.Fprintf(stderr, "irego rules apply: %v\n", err)
		return exitFail
	}
	for _, n := range ch.Notices {
		fmt.Fprintf(stderr, "irego rules apply: warning: %s\n", n)
	}
	if ch.Unchanged {
		fmt.Fprintf(stdout, "%s (fingerprint %s) are already the store's rules; nothing to do\n", fs.Arg(0), ch.To)
		return exitOK
	}
	sr, _, err := engine.ReadStoredRules(st)
	if err != nil {
		fmt.Fprintf(stderr, "irego rules apply: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "%s (fingerprint %s) are now the rules of every process on the store: the CIs of %d classes reindexed in %s (reindex %d of this store, by %s)\n",
		fs.Arg(0), ch.To, ch.Classes, time.Since(began).Round(time.Millisecond), sr.Reindexes, sr.ReindexedBy)
	return exitOK
}

// cmdRulesStatus prints the rules a store records, or with --source their
// text.
func cmdRulesStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("rules status")
	db := fs.String("store", "", "store: a directory, badger:DIR or postgres://…")
	fs.StringVar(db, "db", "", "the same as --store")
	source := fs.Bool("source", false, "print the rule text instead, to start a process with the same rules")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if *db == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "irego rules status: need --store SPEC (irego help rules status)")
		return exitUsage
	}
	ctx := context.Background()
	st, err := backend.OpenReadOnly(ctx, *db)
	if err != nil {
		fmt.Fprintf(stderr, "irego rules status: %v\n", inUse(err, *db, "rules status", false))
		return exitFail
	}
	defer st.Close()
	sr, src, err := engine.ReadStoredRules(st)
	if err != nil {
		fmt.Fprintf(stderr, "irego rules status: %v\n", err)
		return exitFail
	}
	if sr == nil {
		fmt.Fprintln(stderr, "irego rules status: the store records no rules yet (it has not been opened by this version)")
		return exitFail
	}
	if *source {
		stdout.Write(src)
		return exitOK
	}
	fmt.Fprintf(stdout, "fingerprint: %s\nname: %s\nstate: %s\nsince: %s\n", sr.Fingerprint, sr.Name, sr.State, sr.Since.Format(time.RFC3339))
	if sr.Previous != "" {
		fmt.Fprintf(stdout, "previous: %s\n", sr.Previous)
	}
	fmt.Fprintf(stdout, "reindexes: %d\n", sr.Reindexes)
	if sr.ReindexedBy != "" {
		fmt.Fprintf(stdout, "reindexed by: %s\n", sr.ReindexedBy)
	}
	if l, err := engine.ReadRulesLease(st); err != nil {
		fmt.Fprintf(stderr, "irego rules status: %v\n", err)
		return exitFail
	} else if l != nil {
		fmt.Fprintf(stdout, "lease: %s until %s\n", l.Holder, l.Expires.Format(time.RFC3339))
	}
	return exitOK
}
