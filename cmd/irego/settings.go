package main

import (
	"fmt"
	"strings"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/settings"
)

// settingFlag collects irego serve's --set name=value flags.
type settingFlag struct{ m *map[string]string }

func (f settingFlag) String() string {
	if f.m == nil {
		return ""
	}
	var parts []string
	for k, v := range *f.m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (settingFlag) isList() {}

func (f settingFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("%q: want name=value", s)
	}
	if _, known := settings.Lookup(strings.TrimSpace(name)); !known {
		names := make([]string, len(settings.Defs))
		for i, d := range settings.Defs {
			names[i] = d.Name
		}
		return fmt.Errorf("unknown setting %q; the settings are %s", name, strings.Join(names, ", "))
	}
	if *f.m == nil {
		*f.m = map[string]string{}
	}
	(*f.m)[strings.TrimSpace(name)] = value
	return nil
}

// applySettings stores the --set changes, all or nothing.
func applySettings(e *engine.Engine, changes map[string]string) error {
	if len(changes) == 0 {
		return nil
	}
	return settings.New(e.Store()).Set(changes)
}
