package rules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMetricErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"unknown key", "metrics:\n  rules: [{metric: A, value: '1'}]\n  extra: 1\n",
			[]string{`t.yaml:3: metrics: unknown field "extra"`}},
		{"no rules", "metrics:\n  vars: {a: 1}\n",
			[]string{`t.yaml:2: metrics: missing rules`}},
		{"empty rules", "metrics:\n  rules: []\n",
			[]string{`t.yaml:2: metrics.rules: no rules; list at least one`}},
		{"bad code name", "metrics:\n  rules:\n    - metric: pvu\n      value: '1'\n",
			[]string{`t.yaml:3: metrics.rules[0].metric: metric code name "pvu": use capital letters, digits and '_', starting with a letter`}},
		{"missing value", "metrics:\n  rules:\n    - metric: PVU\n",
			[]string{`t.yaml:3: metrics.rules[0]: missing value`}},
		{"typo in a variable", "metrics:\n  rules:\n    - metric: PVU\n      value: computre.cpu_core_count\n",
			[]string{`t.yaml:4: metrics.rules[0].value: bad value "computre.cpu_core_count": unknown name computre (1:1)`}},
		{"undeclared var", "metrics:\n  rules:\n    - metric: PVU\n      value: computer.cpu_core_count * pvu_per_cor\n",
			[]string{`t.yaml:4: metrics.rules[0].value: bad value "computer.cpu_core_count * pvu_per_cor": unknown name pvu_per_cor (1:27)`}},
		{"condition not boolean", "metrics:\n  installs: len(install) + 1\n  rules: [{metric: A, value: '1'}]\n",
			[]string{`t.yaml:2: metrics.installs: bad condition "len(install) + 1": expected bool, but got int`}},
		{"bad per", "metrics:\n  rules:\n    - {metric: A, value: '1', per: rack}\n",
			[]string{`t.yaml:3: metrics.rules[0].per: unknown "rack": want computer or host`}},
		{"var shadows a record", "metrics:\n  vars: {host: 1}\n  rules: [{metric: A, value: '1'}]\n",
			[]string{`t.yaml:2: metrics.vars: variable "host": the name is taken by the record of the same name`}},
		{"var not a scalar", "metrics:\n  vars: {a: [1]}\n  rules: [{metric: A, value: '1'}]\n",
			[]string{`t.yaml:2: metrics.vars.a: expected a number, string or boolean, got a list`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("t.yaml", []byte(tc.in))
			if err == nil {
				t.Fatal("loaded")
			}
			got := strings.Split(err.Error(), "\n")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDefaultMetrics evaluates the default pack's metric rules on the three
// kinds of install the seed describes.
func TestDefaultMetrics(t *testing.T) {
	m := Default().Metrics()
	if m == nil {
		t.Fatal("the default pack has no metrics section")
	}
	if diff := cmp.Diff([]string{"VIRTUAL_PROCESSOR_CORE", "PVU_SUB_CAP", "PVU_FULL_CAP"}, m.Names()); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	computer := map[string]any{"name": "vm-1", "cpu_core_count": int64(4)}
	host := map[string]any{"object_id": "h", "cpu_core_count": int64(32)}
	eval := func(env MetricEnv) map[string]float64 {
		t.Helper()
		vals, errs := m.Evaluate(env)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		out := map[string]float64{}
		for _, v := range vals {
			out[v.Metric] = v.Value
		}
		return out
	}
	byol := map[string]any{"publisher": "IBM", "cloud_license_type": "BYOL"}
	dedicated := eval(MetricEnv{Install: byol, Computer: computer, VM: map[string]any{}, Host: host})
	if diff := cmp.Diff(map[string]float64{"VIRTUAL_PROCESSOR_CORE": 4, "PVU_SUB_CAP": 280, "PVU_FULL_CAP": 2240}, dedicated); diff != "" {
		t.Errorf("dedicated host (-want +got):\n%s", diff)
	}
	shared := eval(MetricEnv{Install: map[string]any{"publisher": "IBM"}, Computer: computer, VM: map[string]any{}})
	if diff := cmp.Diff(map[string]float64{"VIRTUAL_PROCESSOR_CORE": 4, "PVU_SUB_CAP": 280, "PVU_FULL_CAP": 280}, shared); diff != "" {
		t.Errorf("shared VM, no license type (-want +got):\n%s", diff)
	}
	included := eval(MetricEnv{Install: map[string]any{"cloud_license_type": "License Included"}, Computer: computer, Host: host})
	if len(included) != 0 {
		t.Errorf("License Included counted: %v", included)
	}
	// A computer without a core count fails its rules, and says which.
	_, errs := m.Evaluate(MetricEnv{Install: byol, Computer: map[string]any{}})
	if len(errs) != 3 || !strings.Contains(errs[1].Error(), "metric PVU_SUB_CAP (rule at line") {
		t.Errorf("errors: %v", errs)
	}
}

func TestMetricOverride(t *testing.T) {
	rs, err := Load("t.yaml", []byte(`metrics:
  vars: {pvu_per_core: 70}
  rules:
    - metric: PVU_SUB_CAP
      when: 'computer.cpu_type startsWith "POWER"'
      vars: {pvu_per_core: 120}
      value: computer.cpu_core_count * pvu_per_core
    - metric: PVU_SUB_CAP
      value: computer.cpu_core_count * pvu_per_core
`))
	if err != nil {
		t.Fatal(err)
	}
	m := rs.Metrics()
	for typ, want := range map[string]float64{"POWER9": 480, "x86": 280} {
		vals, errs := m.Evaluate(MetricEnv{Computer: map[string]any{"cpu_core_count": int64(4), "cpu_type": typ}})
		if len(errs) > 0 || len(vals) != 1 || vals[0].Value != want {
			t.Errorf("%s: %v %v, want %v", typ, vals, errs, want)
		}
	}
	again, _ := Load("other.yaml", []byte("# a comment changes nothing\n"+`metrics: {vars: {pvu_per_core: 70}, rules: [{metric: PVU_SUB_CAP, when: 'computer.cpu_type startsWith "POWER"', vars: {pvu_per_core: 120}, value: computer.cpu_core_count * pvu_per_core}, {metric: PVU_SUB_CAP, value: computer.cpu_core_count * pvu_per_core}]}`))
	if again.Metrics().Fingerprint() != m.Fingerprint() {
		t.Error("the same rules in another layout have another fingerprint")
	}
	if Default().Metrics().Fingerprint() == m.Fingerprint() {
		t.Error("different rules share a fingerprint")
	}
}
