package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/irego/irego/engine"
)

func cmdGet(args []string, stdout, stderr io.Writer) int {
	e, rem, fs, code := storeOrServer("get", args, stderr, "sys_id", true, nil)
	if fs == nil {
		return code
	}
	var ci *engine.CI
	var err error
	if rem != nil {
		ci = &engine.CI{}
		err = rem.call("GET", "/api/irego/ci/"+url.PathEscape(fs.Arg(0)), nil, ci)
	} else {
		defer e.Close()
		ci, err = e.Get(context.Background(), fs.Arg(0))
	}
	if errors.Is(err, engine.ErrNotFound) || errors.Is(err, errNotFound) {
		fmt.Fprintf(stderr, "irego get: no CI with sys_id %s\n", fs.Arg(0))
		return exitFail
	}
	if err != nil {
		fmt.Fprintf(stderr, "irego get: %v\n", err)
		return exitFail
	}
	return printJSON("get", stdout, stderr, ci)
}

// cmdCheck verifies a store without changing it: it opens the store
// read-only, reads every table block and value back (their checksums) and
// checks the engine's invariants. Any damage exits 1 with a message, never
// with a crash.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	e, rem, fs, code := storeOrServer("check", args, stderr, "", true, nil)
	if fs == nil {
		return code
	}
	var problems []string
	var err error
	if rem != nil {
		var v struct {
			Problems []string `json:"problems"`
		}
		err = rem.call("GET", "/api/irego/check", nil, &v)
		problems = v.Problems
	} else {
		defer e.Close()
		if v, ok := e.Store().(interface{ Verify() error }); ok {
			if err := v.Verify(); err != nil {
				fmt.Fprintf(stderr, "irego check: %v\n", err)
				return exitFail
			}
		}
		problems, err = e.Check(context.Background())
	}
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
