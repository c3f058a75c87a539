package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store/backend"
)

// cmdRulesDiff prints what changes from rule set A to rule set B and, with
// --db, which stored records the change would re-identify (read only).
func cmdRulesDiff(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("rules diff")
	db := fs.String("db", "", "store to dry-run the change on (read only)")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "irego rules diff: need two rule sets, A and B (a file, - for stdin, or default); see irego help rules diff")
		return exitUsage
	}
	var sets [2]*rules.RuleSet
	for i, name := range fs.Args() {
		rs, err := loadRuleSet(name, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "irego rules diff: %v\n", err)
			return exitFail
		}
		sets[i] = rs
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", fs.Arg(0), fs.Arg(1))
	changes := rules.Diff(sets[0], sets[1])
	for _, c := range changes {
		b.WriteString(c.String() + "\n")
	}
	from, to := engine.Fingerprints(sets[0]), engine.Fingerprints(sets[1])
	var affected []string
	for _, name := range sets[1].Classes() {
		if from[name] != to[name] {
			affected = append(affected, name)
		}
	}
	for _, name := range sets[0].Classes() {
		if _, ok := to[name]; !ok {
			affected = append(affected, name)
		}
	}
	fmt.Fprintf(&b, "%d changes; the identification of %d classes changes", len(changes), len(affected))
	const shown = 20 // a pack change can touch hundreds of classes
	if len(affected) > shown {
		fmt.Fprintf(&b, ": %s and %d more", strings.Join(affected[:shown], ", "), len(affected)-shown)
	} else if len(affected) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(affected, ", "))
	}
	b.WriteString("\n")
	io.WriteString(stdout, b.String())
	if *db == "" {
		return exitOK
	}
	st, err := backend.OpenReadOnly(context.Background(), *db)
	if err != nil {
		fmt.Fprintf(stderr, "irego rules diff: %v\n", err)
		return exitFail
	}
	defer st.Close()
	p, err := engine.PreviewRules(st, sets[0], sets[1])
	if err != nil {
		fmt.Fprintf(stderr, "irego rules diff: %v\n", err)
		return exitFail
	}
	b.Reset()
	keys := 0
	for _, r := range p.Records {
		if r.KeysChange {
			keys++
		}
	}
	fmt.Fprintf(&b, "%s: %d stored records would be re-identified, %d of them with other identity keys\n", backend.Redact(*db), len(p.Records), keys)
	for _, r := range p.Records {
		fmt.Fprintf(&b, "  %s %s", r.SysID, r.Class)
		if r.Name != "" {
			fmt.Fprintf(&b, " %q", r.Name)
		}
		switch {
		case r.Unknown:
			b.WriteString(": class not in B, loses its identity keys")
		case r.KeysChange:
			b.WriteString(": identity keys change")
		}
		b.WriteString("\n")
	}
	if !p.StoreIndexedWithFrom {
		fmt.Fprintf(&b, "note: the store was last indexed with other rules than %s; opening it with %s reindexes more than this lists\n", fs.Arg(0), fs.Arg(1))
	}
	io.WriteString(stdout, b.String())
	return exitOK
}

// loadRuleSet loads a rule file, standard input for "-", or the built-in
// pack for "default".
func loadRuleSet(name string, stdin io.Reader) (*rules.RuleSet, error) {
	if name == rules.DefaultPackName {
		return rules.Default(), nil
	}
	return loadRuleFile(name, stdin)
}
