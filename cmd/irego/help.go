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
	"rules": `irego rules check FILE...|- | irego rules default | irego rules classes [ROOT] | irego rules apply|status --store STORE | irego rules diff A B | irego rules import DIR|URL

check validates rule files (exit 1 with file:line: rule X: reason);
default prints the built-in rule pack, a starting point for your own
(or extend it: a file starting with "extends: default");
classes prints the class tree;
apply --store STORE FILE makes FILE the rules of every process on a store;
status --store STORE prints the rules a store records;
diff shows what changes between two rule sets;
import translates a ServiceNow instance's CMDB model into a rule file.`,
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
	"rules diff": `irego rules diff [--db STORE] A B

Shows what changes from rule set A to rule set B: classes, rules and their
entries, relation types, reconciliation and data source rules, sources,
duplicate handling; then the classes whose identification changes. With
--db, a dry run over the store (opened read only): the stored records
opening it with B instead of A would re-identify, and which of them get
other identity keys.

Arguments:
  A, B   a rule file, - for stdin, or default (the built-in pack)`,
	"rules import": `irego rules import [--user NAME] [--password-file FILE] [--standalone] [-o FILE] DIR|URL

Reads an instance's CMDB model through ServiceNow's Table API, from an
export directory ({"result": [...]} pages: TABLE.json, TABLE_1.json ...)
or a live instance URL, and writes an irego rule file: sys_db_object,
sys_dictionary, cmdb_identifier, cmdb_identifier_entry,
cmdb_related_entry, cmdb_rel_type, cmdb_reconciliation_definition,
cmdb_datasource_refresh (or cmdb_datasource_staleness). The file
extends the default pack when that is shorter (--standalone: never).
Every record not translated is listed on stderr with its table and
sys_id. The password comes from --password-file or $IREGO_INSTANCE_PASSWORD.

Arguments:
  DIR|URL   an export directory, or an instance URL (https://NAME.service-now.com)`,
	"rules classes": `irego rules classes [--rules FILE] [ROOT]

Prints the class tree below ROOT (every root when none is given), one class
a line, indented by depth; a class that defines an identification rule
shows it in brackets.

Arguments:
  ROOT   a class name`,
	"rules apply": `irego rules apply --store STORE [--lease DURATION] FILE|-

Makes the rule file the rules of every process on the store: validates it,
records it in the store, rebuilds the indexes of the classes whose rules
changed (once, under a lease in the store, renewed while it runs and taken
over by another process when it expires), then marks it active. Running
servers adopt it without a restart; writes meanwhile are answered 503, to
be sent again. On a Badger directory the server must be stopped.

Arguments:
  FILE   a rule file (YAML), or - to read stdin`,
	"rules status": `irego rules status --store STORE [--source]

Prints the rules the store records: fingerprint, file name, state (active,
or reindexing while a change runs), how many rule changes were reindexed
and by whom, and the lease of a change under way. --source prints the rule
text, to start a process with the same rules.`,
	"serve": `irego serve [flags]

The HTTP server: the ServiceNow, IBM License Metric Tool and TMF637 APIs
over one store. On the first start it creates the user admin and prints
its password once the server listens. People browse the same store in the
web console at /ui/, signing in with the same users.

Every flag may also come from the YAML file --config names (the flag's
name as key: max-conns: 100) and from an environment variable (IREGO_ and
the name in capitals, - as _: IREGO_MAX_CONNS); a flag beats the variable,
which beats the file. --check-config prints the effective configuration
and exits.`,
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
	"lease": "DURATION", "rules-poll": "DURATION", "trusted-proxies": "CIDR,...",
	"config": "FILE",
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
