package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/irego/irego/store/backend"
)

// irego serve takes every flag also from a configuration file and from
// IREGO_* environment variables, derived from its flag set so that a new
// flag needs nothing more: the key in the file is the flag's name
// (max-conns), the variable IREGO_ and the name in capitals with _ for -
// (IREGO_MAX_CONNS). A flag on the command line beats the environment,
// which beats the file, which beats the default.

// notSettings are the serve flags that configure nothing: --config names
// the file and --check-config is an action.
var notSettings = []string{"config", "check-config"}

// aliases are flags that set another flag's setting; the effective
// configuration shows them under the one they alias.
var aliases = map[string]string{"store": "db"}

// otherEnv are IREGO_* variables that are not serve settings: the client
// credentials of --server, the first admin's password, the configuration
// file, the instance passwords of rules import and import servicenow, and
// the bench's; every IREGO_TEST_* variable (the test suite's) is another.
var otherEnv = []string{"IREGO_USER", "IREGO_PASSWORD", "IREGO_ADMIN_PASSWORD", "IREGO_CONFIG",
	"IREGO_INSTANCE_PASSWORD", "IREGO_SN_PASSWORD", "IREGO_BENCH_STORE", "IREGO_BENCH_PRODUCTS"}

// envName is the environment variable of a flag.
func envName(name string) string {
	return "IREGO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// listFlag is a flag that may be given more than once (--set); the file
// gives it a list or a mapping, the environment values separated by ";".
type listFlag interface {
	flag.Value
	isList()
}

// config is where each serve setting's value came from.
type config struct {
	fs *flag.FlagSet
	// from names a setting's source by its flag name (aliases resolved):
	// "--addr", "IREGO_ADDR" or "irego.yaml:3"; absent means the default.
	from map[string]string
	// warnings are worth telling at start (an IREGO_* variable that sets
	// nothing, say).
	warnings []string
}

// canonical is the setting a flag sets.
func canonical(name string) string {
	if a, ok := aliases[name]; ok {
		return a
	}
	return name
}

// configure fills the flags of fs not given on the command line from the
// environment (os.Environ's form), then from the file (none when path is
// ""). fs has been parsed. Errors name the variable or the file, line and
// key.
func configure(fs *flag.FlagSet, path string, environ []string) (*config, error) {
	c := &config{fs: fs, from: map[string]string{}}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "IREGO_") {
			env[k] = v
		}
	}
	fs.Visit(func(f *flag.Flag) {
		if !slices.Contains(notSettings, f.Name) {
			c.from[canonical(f.Name)] = "--" + f.Name
		}
	})
	var errs []error
	fromEnv := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if slices.Contains(notSettings, f.Name) {
			return
		}
		name := envName(f.Name)
		v, ok := env[name]
		if !ok || c.from[canonical(f.Name)] != "" {
			return
		}
		if other := fromEnv[canonical(f.Name)]; other != "" {
			errs = append(errs, fmt.Errorf("%s: the same setting as %s; give one", name, other))
			return
		}
		vals := []string{v}
		if _, list := f.Value.(listFlag); list {
			vals = strings.FieldsFunc(v, func(r rune) bool { return r == ';' })
		}
		for _, v := range vals {
			if err := fs.Set(f.Name, strings.TrimSpace(v)); err != nil {
				errs = append(errs, fmt.Errorf("%s: invalid value %q: %v", name, v, err))
			}
		}
		fromEnv[canonical(f.Name)] = name
	})
	for k, v := range fromEnv {
		c.from[k] = v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if path != "" {
		if err := c.readFile(path); err != nil {
			return nil, err
		}
	}
	c.warnUnknownEnv(env)
	return c, nil
}

// readFile sets the flags the file names that nothing set before.
func (c *config) readFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file configures nothing
		}
		return fmt.Errorf("%s: %v", path, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a mapping of settings (addr: 127.0.0.1:8080, …)", path, root.Line)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		at := fmt.Sprintf("%s:%d", path, k.Line)
		f := c.fs.Lookup(k.Value)
		if f == nil || slices.Contains(notSettings, k.Value) {
			return fmt.Errorf("%s: unknown key %q; the keys are the serve flags: %s", at, k.Value, strings.Join(c.keys(), ", "))
		}
		if seen[canonical(k.Value)] {
			return fmt.Errorf("%s: %s: set twice in the file", at, k.Value)
		}
		seen[canonical(k.Value)] = true
		vals, err := fileValues(f, v)
		if err != nil {
			return fmt.Errorf("%s: %s: %v", at, k.Value, err)
		}
		if c.from[canonical(k.Value)] != "" {
			continue // the command line or the environment wins
		}
		for _, s := range vals {
			if err := c.fs.Set(f.Name, s); err != nil {
				return fmt.Errorf("%s: %s: invalid value %q: %v", at, k.Value, s, err)
			}
		}
		c.from[canonical(k.Value)] = at
	}
	return nil
}

// fileValues are the strings to set a flag to from a YAML value: a scalar,
// or for a list flag a sequence of scalars or a mapping (name: value,
// given as name=value).
func fileValues(f *flag.Flag, v *yaml.Node) ([]string, error) {
	_, list := f.Value.(listFlag)
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag != "!!null":
		return []string{v.Value}, nil
	case v.Kind == yaml.ScalarNode:
		return nil, errors.New("no value")
	case list && v.Kind == yaml.SequenceNode:
		var out []string
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: want name=value", e.Line)
			}
			out = append(out, e.Value)
		}
		return out, nil
	case list && v.Kind == yaml.MappingNode:
		var out []string
		for i := 0; i+1 < len(v.Content); i += 2 {
			if v.Content[i+1].Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: %s: want a single value", v.Content[i].Line, v.Content[i].Value)
			}
			out = append(out, v.Content[i].Value+"="+v.Content[i+1].Value)
		}
		return out, nil
	}
	return nil, errors.New("want a single value, not a list or mapping")
}

// keys are the settings the file and the environment may give.
func (c *config) keys() []string {
	var out []string
	c.fs.VisitAll(func(f *flag.Flag) {
		if !slices.Contains(notSettings, f.Name) {
			out = append(out, f.Name)
		}
	})
	return out
}

// warnUnknownEnv notes IREGO_* variables that set nothing: a misspelt
// setting would otherwise go unnoticed.
func (c *config) warnUnknownEnv(env map[string]string) {
	known := slices.Clone(otherEnv)
	for _, k := range c.keys() {
		known = append(known, envName(k))
	}
	for name := range env {
		if !slices.Contains(known, name) && !strings.HasPrefix(name, "IREGO_TEST_") {
			c.warnings = append(c.warnings, name+" is not an irego serve setting; ignored (irego help serve lists the flags; the variable of --max-conns is IREGO_MAX_CONNS)")
		}
	}
	slices.Sort(c.warnings)
}

// where names the source of a setting for an error message.
func (c *config) where(name string) string {
	if c == nil || c.from[canonical(name)] == "" {
		return "--" + name
	}
	from := c.from[canonical(name)]
	if strings.HasPrefix(from, "--") || strings.HasPrefix(from, "IREGO_") {
		return from
	}
	return from + ": " + name
}

// effective is every setting's value, secrets redacted, and where it came
// from (default, a flag, a variable or the file), in flag order.
func (c *config) effective() []setting {
	var out []setting
	c.fs.VisitAll(func(f *flag.Flag) {
		if slices.Contains(notSettings, f.Name) || aliases[f.Name] != "" {
			return
		}
		from := c.from[f.Name]
		if from == "" {
			from = "default"
		}
		out = append(out, setting{name: f.Name, value: redact(f.Name, f.Value.String()), from: from})
	})
	return out
}

// setting is one line of the effective configuration.
type setting struct{ name, value, from string }

// logAttrs renders the settings for the start's log record.
func logAttrs(ss []setting) []slog.Attr {
	var out []slog.Attr
	for _, s := range ss {
		out = append(out, slog.String(s.name, s.value))
	}
	return out
}

// redact hides secrets: a store URL's password, and any setting named for
// a password, secret or token.
func redact(name, value string) string {
	switch {
	case canonical(name) == "db":
		return backend.Redact(value)
	case value != "" && (strings.Contains(name, "password") || strings.Contains(name, "secret") || strings.Contains(name, "token")):
		return "xxxxx"
	}
	return value
}
