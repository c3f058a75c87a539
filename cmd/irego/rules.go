package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/irego/irego/rules"
)

func cmdRules(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "irego rules: need a subcommand: check FILE...|- | default | classes [ROOT] | apply|status --store STORE | diff A B | import DIR|URL (irego help rules)")
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
			fmt.Fprintln(stderr, "irego rules check: need at least one rule file (- reads standard input)")
			return exitUsage
		}
		code := exitOK
		for _, f := range fs.Args() {
			rs, err := loadRuleFile(f, stdin)
			if err != nil {
				fmt.Fprintf(stderr, "irego rules check: %v\n", err)
				code = exitFail
				continue
			}
			fmt.Fprintf(stdout, "%s: ok (%d classes, %d identification rules, %d relation types)\n",
				f, len(rs.Classes()), len(rs.Rules()), len(rs.RelationTypes()))
		}
		return code
	case "classes":
		return cmdRulesClasses(args[1:], stdin, stdout, stderr)
	case "diff":
		return cmdRulesDiff(args[1:], stdin, stdout, stderr)
	case "import":
		return cmdRulesImport(args[1:], stdout, stderr)
	case "apply":
		return cmdRulesApply(args[1:], stdin, stdout, stderr)
	case "status":
		return cmdRulesStatus(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "irego rules: unknown subcommand %q; want check, default, classes, apply, status, diff or import\n", args[0])
	return exitUsage
}

// loadRuleFile loads a rule file, or standard input for "-".
func loadRuleFile(name string, stdin io.Reader) (*rules.RuleSet, error) {
	if name != "-" {
		return rules.LoadFile(name)
	}
	data, err := io.ReadAll(stdin)
	if err != nil {
		return nil, err
	}
	return rules.Load("-", data)
}

// cmdRulesClasses prints the class tree below ROOT (every root when none
// is given), one class a line, indented by depth; a class that defines an
// identification rule shows it in brackets, the others use their
// ancestor's.
func cmdRulesClasses(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("rules classes")
	file := fs.String("rules", "", "rule file (- reads standard input; default the built-in pack)")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "irego rules classes: at most one ROOT class (irego help rules classes)")
		return exitUsage
	}
	rs := rules.Default()
	if *file != "" {
		var err error
		if rs, err = loadRuleFile(*file, stdin); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFail
		}
	}
	roots := rs.Children("")
	if fs.NArg() == 1 {
		root := fs.Arg(0)
		if _, ok := rs.Class(root); !ok {
			fmt.Fprintf(stderr, "irego rules classes: unknown class %q\n", root)
			return exitFail
		}
		roots = []string{root}
	}
	var b strings.Builder
	var walk func(name string, depth int)
	walk = func(name string, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(name)
		if c, _ := rs.Class(name); c.Rule != nil && c.Rule.AppliesTo == name {
			fmt.Fprintf(&b, "  [%s]", c.Rule.Name)
		}
		b.WriteByte('\n')
		for _, child := range rs.Children(name) {
			walk(child, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	io.WriteString(stdout, b.String())
	return exitOK
}
