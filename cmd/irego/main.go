package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/irego/irego/version"
)

const usage = `irego — identification and reconciliation engine

Usage:
  irego apply (--db DIR | --server URL) --source NAME [--options name:value,...] [--rules FILE] [--dry-run] [--explain] FILE|-
  irego get   (--db DIR | --server URL) [--rules FILE] SYS_ID
  irego check (--db DIR | --server URL) [--rules FILE]
  irego history (--db DIR | --server URL) [--as-of TIME] SYS_ID
  irego partials (--db DIR | --server URL)
  irego stale --db DIR --source NAME [--run-start TIME | --yes] [--retention 30d] [--action list|retire|delete]
  irego bench [--mode inproc|http] [--batch N] [--concurrency C] [--duration D | --count N] [--sync] [--preload N] [--chains N] [--baseline] [--repeats-alone D] [--rules FILE] [--json]
  irego duplicates list|show|merge|dismiss|scan --db DIR [TASK]
  irego backup --db DIR -o FILE
  irego restore --db EMPTY_DIR FILE
  irego import servicenow --db DIR [--user NAME] EXPORT_DIR|URL
  irego export --db DIR --format servicenow|ire|csv|graphml|jsonl [--class C] [--since TIME] --out DIR|-
  irego rules check FILE...|-
  irego rules default
  irego rules classes [--rules FILE] [ROOT]
  irego rules diff [--db STORE] A B
  irego rules import [--user NAME] [--password-file FILE] [--standalone] [-o FILE] DIR|URL
  irego serve [--db DIR] [--addr HOST:PORT] [--metrics-addr HOST:PORT] [--rules FILE] [--sync] [--max-body SIZE] [--log text|json] [--set name=value]...
              [--config irego.yaml] [--check-config]
  irego users add|list|delete|passwd --db DIR [--name NAME] [--roles ROLE,...]
  irego version            (or --version)
  irego help [COMMAND]

With --server, a command asks a running irego serve instead of opening the
store; the user and password come from IREGO_USER (default admin) and
IREGO_PASSWORD.

Run "irego help COMMAND" or "irego COMMAND -h" for a command's flags and arguments.
`

// exit codes
const (
	exitOK    = 0
	exitFail  = 1 // the input could not be processed
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	privateFiles()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch {
	case args[0] == "help":
		return runHelp(args[1:], stdin, stdout)
	case isHelp(args[1:]):
		path := args[:1]
		if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
			path = args[:2] // users add -h
		}
		return runHelp(path, stdin, stdout)
	}
	return dispatch(args, stdin, stdout, stderr)
}

// dispatch runs the command args name.
func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch args[0] {
	case "apply":
		return cmdApply(args[1:], stdin, stdout, stderr)
	case "get":
		return cmdGet(args[1:], stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "rules":
		return cmdRules(args[1:], stdin, stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "users":
		return cmdUsers(args[1:], stdin, stdout, stderr)
	case "history":
		return cmdHistory(args[1:], stdout, stderr)
	case "partials":
		return cmdPartials(args[1:], stdout, stderr)
	case "stale":
		return cmdStale(args[1:], stdout, stderr)
	case "bench":
		return cmdBench(args[1:], stdout, stderr)
	case "duplicates":
		return cmdDuplicates(args[1:], stdout, stderr)
	case "backup":
		return cmdBackup(args[1:], stdout, stderr)
	case "restore":
		return cmdRestore(args[1:], stdin, stdout, stderr)
	case "import":
		return cmdImport(args[1:], stdout, stderr)
	case "export":
		return cmdExport(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, version.Get())
		return exitOK
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "irego: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
