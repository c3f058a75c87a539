package main

import (
	"context"
	"errors"
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

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	e, _, code := storeCommand("check", args, stderr, "", nil)
	if e == nil {
		return code
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
