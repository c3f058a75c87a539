package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// help holds each command's usage line and what it does; its flags are
// listed from its flag set. Keys are command paths ("users add").
var help = map[string]string{
	"apply": `irego apply (--db STORE | --server URL) --source NAME [flags] FILE|-

Identifies and reconciles the payload in FILE (- for stdin) into the store
and prints the IRE output object. Exits 0 once the payload was processed,
even if some items carry errors; 1 when it cannot be read, naming where.

Arguments:
  FILE   an IRE payload (JSON), or - to read stdin`,
	"get": `irego get (--db STORE | --server URL) SYS_ID

Prints the CI as JSON: sys_id, class, values, related records, relations
in and out.

Arguments:
  SYS_ID   the CI's sys_id (32 hex characters)`,
	"check": `irego check (--db STORE | --server URL)

Verifies the identity index, class index and edges; prints ok, or each
problem and exits 1.`,
	"history": `irego history (--db STORE | --server URL) [--as-of TIME] SYS_ID

Prints every change of a CI (source, time, before/after), or with --as-of
the CI as it was then.

Arguments:
  SYS_ID   the CI's sys_id`,
	"partials": `irego partials (--db STORE | --server URL)

Prints the partial payloads waiting for completion and the incomplete items
kept for inspection.`,
	"stale": `irego stale --db STORE --source NAME [flags]

Lists, retires or deletes the CIs one source alone created and no longer
reports.`,
	"backup": `irego backup --db STORE -o FILE

Writes a backup of a stopped server's store (Badger's format); a running
server offers the same at GET /api/irego/backup.`,
	"restore": `irego restore --db EMPTY_STORE FILE|-

Loads a backup into an empty store.

Arguments:
  FILE   a backup written by irego backup, or - to read stdin`,
	"import": `irego import servicenow --db STORE [flags] EXPORT_DIR|URL

Loads a ServiceNow CMDB (irego help import servicenow).`,
	"import servicenow": `irego import servicenow --db STORE [flags] EXPORT_DIR|URL

Loads a ServiceNow CMDB from Table API exports or a live instance: the CI
tables, cmdb_rel_ci with cmdb_rel_type, sys_object_source, and the related
tables (cmdb_serial_number, cmdb_sam_sw_install, cmdb_software_instance),
keeping every sys_id; then builds the identity index with the rules. CIs
that fill a unique identifier entry alike become de-duplication tasks.
Prints progress; run it again after an interruption to go on from the
last checkpoint. Ends with irego check; exits 1 if it finds problems.

Arguments:
  EXPORT_DIR   a directory of {"result":[...]} pages: TABLE.json, TABLE_1.json ... or TABLE/*.json
  URL          an instance, https://NAME.service-now.com (password from IREGO_SN_PASSWORD)`,
	"export": `irego export --db STORE --format FORMAT [flags] --out DIR|-

Writes the store out: servicenow (Table API pages per table, re-importable),
ire (one IRE payload per line per independent CI, replayable), csv (a file
per class), graphml (CIs and relations for graph tools) or jsonl (a line
per CI, then per relation).`,
	"bench": `irego bench [flags]

The load tool: applies generated payloads in process or against a running
server and reports throughput and latencies.`,
	"rules": `irego rules check FILE...|- | irego rules default | irego rules classes [ROOT]

check validates rule files (exit 1 with file:line: rule X: reason);
default prints the built-in rule pack, a starting point for your own;
classes prints the class tree.`,
	"rules check": `irego rules check FILE...|-

Validates rule files; exits 1 with file:line: rule X: reason.

Arguments:
  FILE   a rule file (YAML); give one or more, or - to read stdin`,
	"duplicates": `irego duplicates list|show|merge|dismiss|scan [flags] [TASK]

De-duplication tasks: groups of CIs that one identifier entry found
together. list shows them (--state open|merged|dismissed|all), show one
with its CIs, merge folds a task's CIs into one main CI (--main SYS_ID,
--take attr=SYS_ID,..., --delete), dismiss closes a task (--note TEXT),
scan opens a task for every group of CIs sharing a unique entry's values.

Arguments:
  TASK   a task's number (DUP0000001) or sys_id`,
	"rules classes": `irego rules classes [--rules FILE] [ROOT]

Prints the class tree below ROOT (every root when none is given), one class
a line, indented by depth; a class that defines an identification rule
shows it in brackets.

Arguments:
  ROOT   a class name`,
	"serve": `irego serve [flags]

The HTTP server: the ServiceNow, IBM License Metric Tool and TMF637 APIs
over one store. On the first start it creates the user admin and prints
its password once the server listens.`,
	"users": `irego users add|list|delete|passwd --db DIR [flags]

Users of a stopped server (while it runs, use its /api/irego/users).`,
	"users add": `irego users add --db DIR --name NAME --roles ROLE,... [--replace]

Creates a user; the password is the first line of stdin.`,
	"users list": `irego users list --db DIR

Prints each user and their roles.`,
	"users delete": `irego users delete --db DIR --name NAME

Deletes a user (never the last admin).`,
	"users passwd": `irego users passwd --db DIR NAME

Sets a user's password to the first line of stdin; an empty line makes a
random one, printed. Resets a lost admin password.

Arguments:
  NAME   the user`,
}

// valueNames name the values of flags in help, where "string" says little.
var valueNames = map[string]string{
	"db": "STORE", "store": "STORE", "server": "URL", "source": "NAME", "rules": "FILE", "o": "FILE",
	"options": "NAME:VALUE,...", "addr": "HOST:PORT", "name": "NAME", "roles": "ROLE,...", "set": "NAME=VALUE",
	"as-of": "TIME", "run-start": "TIME", "retention": "PERIOD", "action": "list|retire|delete", "log": "text|json",
	"max-body": "SIZE", "max-inflight": "SIZE", "callback-allow": "CIDR,...",
}

// newFlags returns a flag set for the command at path whose messages are
// kept for parseFlags to report.
func newFlags(path string) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args; on -h it prints the command's help on stderr,
// on a bad flag the error. ok is false when the command should stop with
// code.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		printHelp(stderr, fs.Name(), fs)
		return exitOK, false
	}
	fmt.Fprintf(stderr, "irego %s: %v (irego help %s lists the flags)\n", fs.Name(), err, fs.Name())
	return exitUsage, false
}

// printHelp writes the help of the command at path, with its flags when
// fs is not nil, as --name VALUE.
func printHelp(w io.Writer, path string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n", strings.TrimRight(help[path], "\n"))
	if fs == nil {
		return
	}
	var b bytes.Buffer
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if v, ok := valueNames[f.Name]; ok && name != "" {
			name = v
		} else if name == "string" {
			name = strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		}
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		fmt.Fprintf(&b, "  %s%s", dash, f.Name)
		if name != "" {
			fmt.Fprintf(&b, " %s", name)
		}
		fmt.Fprintf(&b, "\n    \t%s", strings.ReplaceAll(usage, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteByte('\n')
	})
	if b.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", b.String())
	}
}

// isHelp reports whether args ask for help (-h, -help or --help before
// any -- ).
func isHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// runHelp answers irego help [COMMAND [SUBCOMMAND]] and COMMAND ... -h on
// stdout: the command is run with -h, which prints its help and stops
// before touching anything.
func runHelp(path []string, stdin io.Reader, stdout io.Writer) int {
	if len(path) == 0 {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	name := strings.Join(path, " ")
	if _, ok := help[name]; !ok && len(path) > 1 {
		path = path[:1]
		name = path[0]
	}
	if _, ok := help[name]; !ok {
		fmt.Fprintf(stdout, "irego help: no command %q\n\n%s", name, usage)
		return exitUsage
	}
	var out bytes.Buffer
	dispatch(append(append([]string(nil), path...), "-h"), stdin, io.Discard, &out)
	if out.Len() == 0 {
		printHelp(&out, name, nil)
	}
	_, _ = stdout.Write(out.Bytes())
	return exitOK
}
