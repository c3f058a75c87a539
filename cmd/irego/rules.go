package main

import (
	"fmt"
	"io"

	"github.com/irego/irego/rules"
)

func cmdRules(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "irego rules: need a subcommand: check FILE... | default (irego help rules)")
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		printHelp(stderr, "rules", nil)
		return exitOK
	case "default":
		fmt.Fprint(stdout, string(rules.DefaultSource()))
		return exitOK
	case "check":
		fs := newFlags("rules check")
		if code, ok := parseFlags(fs, args[1:], stderr); !ok {
			return code
		}
		if fs.NArg() == 0 {
			fmt.Fprintln(stderr, "irego rules check: need at least one rule file")
			return exitUsage
		}
		code := exitOK
		for _, f := range fs.Args() {
			rs, err := rules.LoadFile(f)
			if err != nil {
				fmt.Fprintf(stderr, "irego rules check: %v\n", err)
				code = exitFail
				continue
			}
			fmt.Fprintf(stdout, "%s: ok (%d classes, %d identification rules, %d relation types)\n",
				f, len(rs.Classes()), len(rs.Rules()), len(rs.RelationTypes()))
		}
		return code
	}
	fmt.Fprintf(stderr, "irego rules: unknown subcommand %q; want check or default\n", args[0])
	return exitUsage
}
