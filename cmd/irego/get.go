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
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "store directory")
	rulesFile := fs.String("rules", "", "rule file (default: the built-in rule pack)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *db == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "irego get: need --db DIR and one sys_id")
		return exitUsage
	}
	e, err := openEngine(*db, *rulesFile)
	if err != nil {
		fmt.Fprintf(stderr, "irego get: %v\n", err)
		return exitFail
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

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "store directory")
	rulesFile := fs.String("rules", "", "rule file (default: the built-in rule pack)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *db == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "irego check: need --db DIR")
		return exitUsage
	}
	e, err := openEngine(*db, *rulesFile)
	if err != nil {
		fmt.Fprintf(stderr, "irego check: %v\n", err)
		return exitFail
	}
	defer e.Close()
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
