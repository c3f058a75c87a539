package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

const duplicatesUsage = `Usage:
  irego duplicates list    --db DIR [--state open|merged|dismissed|all]
  irego duplicates show    --db DIR TASK
  irego duplicates merge   --db DIR [--main SYS_ID] [--take attr=SYS_ID,...] [--delete] TASK
  irego duplicates dismiss --db DIR [--note TEXT] TASK
  irego duplicates scan    --db DIR
TASK is a task's number (DUP0000001) or sys_id.
`

// cmdDuplicates lists, shows, merges, dismisses and finds de-duplication
// tasks.
func cmdDuplicates(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, duplicatesUsage)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		printHelp(stdout, "duplicates", nil)
		return exitOK
	}
	ctx := context.Background()
	name := "duplicates " + args[0]
	switch args[0] {
	case "list":
		var state string
		e, _, code := storeCommand(name, args[1:], stderr, "", func(fs *flag.FlagSet) {
			fs.StringVar(&state, "state", engine.TaskOpen, "tasks in this state: open, merged, dismissed or all")
		})
		if e == nil {
			return code
		}
		defer e.Close()
		switch state {
		case "all":
			state = ""
		case engine.TaskOpen, engine.TaskMerged, engine.TaskDismissed:
		default:
			fmt.Fprintf(stderr, "irego %s: --state %q: one of open, merged, dismissed, all\n", name, state)
			return exitUsage
		}
		ts, err := e.DuplicateTasks(ctx, state)
		if err != nil {
			fmt.Fprintf(stderr, "irego %s: %v\n", name, err)
			return exitFail
		}
		for _, t := range ts {
			fmt.Fprintf(stdout, "%s  %-9s  %d CIs  %s  %s\n", t.Number, t.State, len(t.CIs), shared(t), strings.Join(t.CIs, " "))
		}
		fmt.Fprintf(stderr, "%d tasks\n", len(ts))
		return exitOK
	case "show":
		e, fs, code := storeCommand(name, args[1:], stderr, "task", nil)
		if e == nil {
			return code
		}
		defer e.Close()
		t, err := e.DuplicateTask(ctx, fs.Arg(0))
		if err != nil {
			return taskError(name, err, stderr)
		}
		out := struct {
			*engine.DuplicateTask
			Records []*engine.CI `json:"records"`
		}{DuplicateTask: t}
		for _, id := range t.CIs {
			ci, err := e.Get(ctx, id)
			if errors.Is(err, engine.ErrNotFound) {
				continue
			}
			if err != nil {
				fmt.Fprintf(stderr, "irego %s: %v\n", name, err)
				return exitFail
			}
			out.Records = append(out.Records, ci)
		}
		return printJSON("duplicates", stdout, stderr, out)
	case "merge":
		var o engine.MergeOptions
		var take string
		e, fs, code := storeCommand(name, args[1:], stderr, "task", func(fs *flag.FlagSet) {
			fs.StringVar(&o.Main, "main", "", "sys_id of the CI to keep (default: the oldest)")
			fs.StringVar(&take, "take", "", "attr=SYS_ID,...: keep that CI's value of the attribute")
			fs.BoolVar(&o.Delete, "delete", false, "delete the other CIs instead of retiring them")
			fs.StringVar(&o.Source, "source", "irego duplicates merge", "who merges, for the history")
		})
		if e == nil {
			return code
		}
		defer e.Close()
		if take != "" {
			o.Take = map[string]string{}
			for _, kv := range strings.Split(take, ",") {
				k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
				if !ok || k == "" || v == "" {
					fmt.Fprintf(stderr, "irego %s: --take %q: want attr=SYS_ID\n", name, kv)
					return exitUsage
				}
				o.Take[k] = v
			}
		}
		res, err := e.MergeDuplicates(ctx, fs.Arg(0), o)
		if err != nil {
			return taskError(name, err, stderr)
		}
		return printJSON("duplicates", stdout, stderr, res)
	case "dismiss":
		var note string
		e, fs, code := storeCommand(name, args[1:], stderr, "task", func(fs *flag.FlagSet) {
			fs.StringVar(&note, "note", "", "why the CIs are not duplicates")
		})
		if e == nil {
			return code
		}
		defer e.Close()
		t, err := e.DismissDuplicates(ctx, fs.Arg(0), note)
		if err != nil {
			return taskError(name, err, stderr)
		}
		return printJSON("duplicates", stdout, stderr, t)
	case "scan":
		e, _, code := storeCommand(name, args[1:], stderr, "", nil)
		if e == nil {
			return code
		}
		defer e.Close()
		ts, err := e.ScanDuplicates(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "irego %s: %v\n", name, err)
			return exitFail
		}
		for _, t := range ts {
			fmt.Fprintf(stdout, "%s  %d CIs  %s  %s\n", t.Number, len(t.CIs), shared(t), strings.Join(t.CIs, " "))
		}
		fmt.Fprintf(stderr, "%d tasks opened\n", len(ts))
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, duplicatesUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "irego duplicates: unknown subcommand %q\n\n%s", args[0], duplicatesUsage)
	return exitUsage
}

// shared renders the values a task's CIs share: attr=value,...
func shared(t *engine.DuplicateTask) string {
	var out []string
	for k, v := range t.Values {
		out = append(out, k+"="+payload.Canonical(v))
	}
	sort.Strings(out)
	if len(out) == 0 {
		return t.Entry
	}
	return strings.Join(out, ",")
}

func taskError(name string, err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "irego %s: %v\n", name, err)
	return exitFail
}
