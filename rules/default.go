package rules

import (
	_ "embed"
	"sync"
)

//go:embed default.yaml
var defaultSource []byte

// DefaultSource returns the text of the built-in rule pack, a starting point
// for a rule file of one's own.
func DefaultSource() []byte { return append([]byte(nil), defaultSource...) }

// Default returns the built-in rule pack, compiled on first use and shared
// afterwards. It panics only if the embedded file is broken, which the
// package's tests rule out.
func Default() *RuleSet { return loadDefault() }

var loadDefault = sync.OnceValue(func() *RuleSet {
	rs, err := Load("default.yaml", defaultSource)
	if err != nil {
		panic("rules: the embedded default rule pack is broken:\n" + err.Error())
	}
	return rs
})
