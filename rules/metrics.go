package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"
)

// Metric rules say how much of a license metric a software install uses.
// They are evaluated during a license import (package license), once per
// counted install, over the install and the machines it runs on:
//
//	metrics:
//	  installs: 'install.cloud_license_type in [nil, "", "BYOL"]'   # optional: which installs count at all
//	  vars: {pvu_per_core: 70}                # optional: variables every rule sees
//	  rules:
//	    - metric: PVU_FULL_CAP                # the metric's code name
//	      name: PVU full capacity             # optional display name
//	      when: 'host != nil'                 # optional: the rule applies when this holds
//	      vars: {pvu_per_core: 100}           # optional: override the section's vars
//	      per: host                           # optional: computer (default) or host
//	      value: 'host.cpu_core_count * pvu_per_core'
//
// The variables are install, computer, vm and host: maps of the stored
// values of the software install, the computer it is installed on, the VM
// instance that virtualizes the computer and the cloud host that VM runs on
// (vm and host are nil when there is none), and the vars. For each metric
// the first rule in file order whose when holds gives the value.

// MetricRules is the compiled metrics section of a rule file.
type MetricRules struct {
	// Installs selects the installs that count; nil means all of them.
	Installs *Condition
	// Vars are the section's variables.
	Vars map[string]any
	// Rules in file order.
	Rules []*MetricRule
	// Line is where the section starts.
	Line int

	fingerprint string
}

// MetricRule computes one metric for the installs it applies to.
type MetricRule struct {
	// Metric is the code name, e.g. PVU_SUB_CAP.
	Metric string
	// Name is the display name; empty when the rule gives none.
	Name string
	// When, if not nil, must hold for the rule to apply.
	When *Condition
	// Value computes the quantity used; it must yield a number.
	Value *Expression
	// Vars are the variables the rule sees: the section's, overridden by
	// the rule's own.
	Vars map[string]any
	// PerHost makes the value count once per cloud host: computers on one
	// host share it (the largest value wins) instead of adding up.
	PerHost bool
	Line    int
}

// MetricEnv is what a metric rule is evaluated over. Maps are read only.
type MetricEnv struct {
	Install, Computer, VM, Host map[string]any
}

// MetricValue is the quantity of one metric an install uses.
type MetricValue struct {
	Metric  string
	Value   float64
	PerHost bool
	// Rule is the rule that gave the value.
	Rule *MetricRule
}

// Expression is a compiled expr expression yielding a number.
type Expression struct {
	Source  string
	program *vm.Program
}

// Metrics returns the compiled metrics section, or nil when the rule file
// has none.
func (rs *RuleSet) Metrics() *MetricRules { return rs.metrics }

// Names returns the metric code names the rules compute, in the order of
// their first rule.
func (m *MetricRules) Names() []string {
	var out []string
	for _, r := range m.Rules {
		out = appendNew(out, r.Metric)
	}
	return out
}

// DisplayName returns the display name the rules give metric, or "".
func (m *MetricRules) DisplayName(metric string) string {
	for _, r := range m.Rules {
		if r.Metric == metric && r.Name != "" {
			return r.Name
		}
	}
	return ""
}

// Fingerprint changes whenever the section's text does (conditions,
// values, vars, order), so an import can tell it ran under older rules.
func (m *MetricRules) Fingerprint() string { return m.fingerprint }

// Counts reports whether the install counts at all.
func (m *MetricRules) Counts(env MetricEnv) (bool, error) {
	if m.Installs == nil {
		return true, nil
	}
	return m.Installs.Eval(env.vars(m.Vars))
}

// Evaluate computes every metric for one install: for each metric, the
// first rule whose condition holds. It returns the values it could compute
// and an error per rule that failed (a condition or value that could not
// be evaluated, or a value that is not a number); a failed rule leaves its
// metric out. Installs that do not count yield nothing.
func (m *MetricRules) Evaluate(env MetricEnv) ([]MetricValue, []error) {
	ok, err := m.Counts(env)
	if err != nil {
		return nil, []error{fmt.Errorf("metrics.installs: %w", err)}
	}
	if !ok {
		return nil, nil
	}
	var out []MetricValue
	var errs []error
	done := map[string]bool{}
	for _, r := range m.Rules {
		if done[r.Metric] {
			continue
		}
		vars := env.vars(r.Vars)
		if r.When != nil {
			holds, err := r.When.Eval(vars)
			if err != nil {
				errs = append(errs, fmt.Errorf("metric %s (rule at line %d): %w", r.Metric, r.Line, err))
				done[r.Metric] = true
				continue
			}
			if !holds {
				continue
			}
		}
		done[r.Metric] = true
		v, err := r.Value.Eval(vars)
		if err != nil {
			errs = append(errs, fmt.Errorf("metric %s (rule at line %d): %w", r.Metric, r.Line, err))
			continue
		}
		out = append(out, MetricValue{Metric: r.Metric, Value: v, PerHost: r.PerHost, Rule: r})
	}
	return out, errs
}

// vars is the expr environment: the four records and the variables.
func (env MetricEnv) vars(vars map[string]any) map[string]any {
	m := make(map[string]any, len(vars)+4)
	for k, v := range vars {
		m[k] = v
	}
	m["install"], m["computer"] = nilMap(env.Install), nilMap(env.Computer)
	m["vm"], m["host"] = nilMap(env.VM), nilMap(env.Host)
	return m
}

// nilMap turns a nil map into a plain nil, so `host != nil` reads as meant.
func nilMap(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

// Eval runs the expression against vars and returns its number.
func (x *Expression) Eval(vars map[string]any) (float64, error) {
	out, err := expr.Run(x.program, vars)
	if err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return 0, fmt.Errorf("value %q: %s", x.Source, msg)
	}
	switch n := out.(type) {
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, fmt.Errorf("value %q: %v is not a quantity", x.Source, n)
		}
		return n, nil
	}
	return 0, fmt.Errorf("value %q: got %T %v, want a number", x.Source, out, out)
}

// metricVariables are the names the loader gives every metric expression.
var metricVariables = []string{"install", "computer", "vm", "host"}

var (
	metricCode = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	varName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// metrics reads the metrics section.
func (l *loader) metrics(n *yaml.Node) {
	base := scope{field: "metrics"}
	f := l.fields(n, base, "installs", "vars", "rules")
	if f == nil {
		return
	}
	m := &MetricRules{Line: n.Line, Vars: map[string]any{}}
	if vn := f["vars"]; vn != nil {
		m.Vars = l.metricVars(vn, base.key("vars"), nil)
	}
	if in := f["installs"]; in != nil {
		m.Installs = l.metricExpr(in, base.key("installs"), m.Vars, true).cond()
	}
	rn := l.need(f, n, base, "rules")
	if rn == nil {
		return
	}
	items, ok := l.seq(rn, base.key("rules"))
	if ok && len(items) == 0 {
		l.errorf(rn, base.key("rules"), "no rules; list at least one")
	}
	for i, it := range items {
		if r := l.metricRule(it, base.key("rules").index(i), m.Vars); r != nil {
			m.Rules = append(m.Rules, r)
		}
	}
	m.fingerprint = m.print()
	l.rs.metrics = m
}

// print derives the fingerprint from what the section compiled to, so
// comments and layout do not count.
func (m *MetricRules) print() string {
	h := sha256.New()
	vars := func(vs map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(vs)) {
			fmt.Fprintf(h, " %s=%#v", k, vs[k])
		}
		fmt.Fprintln(h)
	}
	if m.Installs != nil {
		fmt.Fprintf(h, "installs %q\n", m.Installs.Source)
	}
	vars(m.Vars)
	for _, r := range m.Rules {
		when := ""
		if r.When != nil {
			when = r.When.Source
		}
		fmt.Fprintf(h, "rule %s %q %q %q %v", r.Metric, r.Name, when, r.Value.Source, r.PerHost)
		vars(r.Vars)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (l *loader) metricRule(it *yaml.Node, s scope, section map[string]any) *MetricRule {
	f := l.fields(it, s, "metric", "name", "when", "vars", "per", "value")
	if f == nil {
		return nil
	}
	r := &MetricRule{Line: it.Line, Vars: section}
	if mn := l.need(f, it, s, "metric"); mn != nil {
		if code, ok := l.str(mn, s.key("metric")); ok {
			if !metricCode.MatchString(code) {
				l.errorf(mn, s.key("metric"), "metric code name %q: use capital letters, digits and '_', starting with a letter", code)
			}
			r.Metric = code
		}
	}
	if nn := f["name"]; nn != nil {
		r.Name, _ = l.str(nn, s.key("name"))
	}
	if vn := f["vars"]; vn != nil {
		r.Vars = l.metricVars(vn, s.key("vars"), section)
	}
	if pn := f["per"]; pn != nil {
		if per, ok := l.str(pn, s.key("per")); ok {
			switch per {
			case "computer":
			case "host":
				r.PerHost = true
			default:
				l.errorf(pn, s.key("per"), "unknown %q: want computer or host", per)
			}
		}
	}
	if wn := f["when"]; wn != nil {
		r.When = l.metricExpr(wn, s.key("when"), r.Vars, true).cond()
	}
	if vn := l.need(f, it, s, "value"); vn != nil {
		r.Value = l.metricExpr(vn, s.key("value"), r.Vars, false)
	}
	if r.Metric == "" || r.Value == nil {
		return nil
	}
	return r
}

// metricVars reads a mapping of variable names to scalar values, on top of
// inherited ones.
func (l *loader) metricVars(n *yaml.Node, s scope, inherited map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range inherited {
		out[k] = v
	}
	ps, _ := l.pairs(n, s)
	for _, p := range ps {
		switch {
		case !varName.MatchString(p.name):
			l.errorf(p.key, s, "variable %q: use letters, digits and '_', not starting with a digit", p.name)
			continue
		case slices.Contains(metricVariables, p.name):
			l.errorf(p.key, s, "variable %q: the name is taken by the record of the same name", p.name)
			continue
		}
		var v any
		if p.val.Kind != yaml.ScalarNode || p.val.ShortTag() == "!!null" || p.val.Decode(&v) != nil {
			l.errorf(p.val, s.key(p.name), "expected a number, string or boolean, got %s", describe(p.val))
			continue
		}
		out[p.name] = v
	}
	return out
}

// metricExpr compiles a condition (asBool) or a value over the metric
// variables, reporting a bad one. Unknown variable names are errors here,
// so a typo fails the load instead of every import.
func (l *loader) metricExpr(n *yaml.Node, s scope, vars map[string]any, asBool bool) *Expression {
	src, ok := l.str(n, s)
	if !ok {
		return nil
	}
	env := map[string]any{}
	for k, v := range vars {
		env[k] = v
	}
	for _, name := range metricVariables {
		env[name] = map[string]any{}
	}
	opts := []expr.Option{expr.Env(env)}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	p, err := expr.Compile(src, opts...)
	if err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		what := "value"
		if asBool {
			what = "condition"
		}
		l.errorf(n, s, "bad %s %q: %s", what, src, msg)
		return nil
	}
	return &Expression{Source: src, program: p}
}

// cond views a boolean expression as a Condition.
func (x *Expression) cond() *Condition {
	if x == nil {
		return nil
	}
	return &Condition{Source: x.Source, program: x.program}
}
