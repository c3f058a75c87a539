package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/irego/irego/engine"
)

func cmdGet(args []string, stdout, stderr io.Writer) int {
	e, fs, code := storeCommand("get", args, stderr, "sys_id", nil)
	if e == nil {
		return code
	}
	defer e.Close()
	ci, err := e.Get(context.Background(), fs.Arg(0))
	if errors.Is(err, engine.ErrNotFound) {
		fmt.Fprintf(stderr, "irego get: no CI with sys_id %s\n", fs.Arg(0))
		return exitFail
	}
	if err != nil {
		fmt.Fprintf(stderr, "irego get: %v\n", err)
		return exitFail
	}
	return printJSON(stdout, stderr, ci)
}

// cmdCheck verifies a store without changing it: it opens the store
// read-only, reads every table block and value back (their checksums) and
// checks the engine's invariants. Any damage exits 1 with a message, never
// with a crash.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "store: a directory, badger:DIR or postgres://…")
	fs.StringVar(db, "store", "", "the same as --db")
	rulesFile := fs.String("rules", "", "rule file (default: the built-in rule pack)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *db == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "irego check: need --db DIR")
		return exitUsage
	}
	e, err := openEngineWith(*db, *rulesFile, engine.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stderr, "irego check: %v\n", err)
		return exitFail
	}
	defer e.Close()
	if v, ok := e.Store().(interface{ Verify() error }); ok {
		if err := v.Verify(); err != nil {
			fmt.Fprintf(stderr, "irego check: %v\n", err)
			return exitFail
		}
	}
	problems, err := e.Check(context.Background())
	if err != nil {
		fmt.Fprintf(stderr, "irego check: %v\n", err)
		return exitFail
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "irego check: %d problems\n", len(problems))
		return exitFail
	}
	fmt.Fprintln(stdout, "ok")
	return exitOK
}
