package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/irego/irego/rules/ruleimport"
	"github.com/irego/irego/tableapi"
)

// instancePasswordEnv is where rules import reads an instance's password
// when no --password-file is given, so it stays off the command line.
const instancePasswordEnv = "IREGO_INSTANCE_PASSWORD"

// cmdRulesImport translates an instance's CMDB model, from an export
// directory or a live instance, into a rule file.
func cmdRulesImport(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("rules import")
	out := fs.String("o", "", "write the rule file here (default standard output)")
	user := fs.String("user", "", "instance user (basic authentication)")
	passwordFile := fs.String("password-file", "", "file holding the instance user's password (default $"+instancePasswordEnv+")")
	standalone := fs.Bool("standalone", false, "write a file that does not extend the default pack")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "irego rules import: need one export directory or instance URL; see irego help rules import")
		return exitUsage
	}
	opts := tableapi.Options{User: *user, Password: os.Getenv(instancePasswordEnv)}
	if *passwordFile != "" {
		b, err := os.ReadFile(*passwordFile)
		if err != nil {
			fmt.Fprintf(stderr, "irego rules import: %v\n", err)
			return exitFail
		}
		opts.Password = strings.TrimRight(string(b), "\r\n")
	}
	src, err := tableapi.Open(fs.Arg(0), opts)
	if err != nil {
		fmt.Fprintf(stderr, "irego rules import: %v\n", err)
		return exitFail
	}
	name := *out
	if name == "" {
		name = "-"
	}
	res, err := ruleimport.Import(context.Background(), src, ruleimport.Options{Standalone: *standalone, Name: name})
	if err != nil {
		fmt.Fprintf(stderr, "irego rules import: %v\n", err)
		return exitFail
	}
	if *out == "" {
		stdout.Write(res.File)
	} else if err := os.WriteFile(*out, res.File, 0o644); err != nil {
		fmt.Fprintf(stderr, "irego rules import: %v\n", err)
		return exitFail
	}

	var b strings.Builder
	failed := 0
	for _, p := range res.Problems {
		b.WriteString(p.String() + "\n")
		if !p.Kept {
			failed++
		}
	}
	read, tables := 0, 0
	for _, n := range res.Read {
		read += n
		tables++
	}
	kind := "extends the default pack"
	if res.Standalone {
		kind = "standalone"
	}
	fmt.Fprintf(&b, "irego rules import: read %d records from %d tables of %s", read, tables, src)
	if len(res.Missing) > 0 {
		fmt.Fprintf(&b, " (absent: %s)", strings.Join(res.Missing, ", "))
	}
	fmt.Fprintf(&b, "; %d tables outside the CMDB left out\n", res.OutsideCMDB)
	fmt.Fprintf(&b, "irego rules import: wrote %s (%s): %d classes, %d identification rules, %d relation types; %d records not translated, %d translated with a note\n",
		name, kind, len(res.Rules.Classes()), len(res.Rules.Rules()), len(res.Rules.RelationTypes()), failed, len(res.Problems)-failed)
	io.WriteString(stderr, b.String())
	return exitOK
}
