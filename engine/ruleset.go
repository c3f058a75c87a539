package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// The rule set a store is identified with is recorded in the store
// (meta/ruleset, its text under meta/rulesource), so that every process on
// a shared store uses the same rules: a process started with other rules
// refuses to write (RulesMismatchError) unless it adopts the stored ones,
// and ChangeRules changes them for every process at once.

// States of a stored rule set.
const (
	// RulesActive: the indexes are built for the rules; writes go ahead.
	RulesActive = "active"
	// RulesReindexing: the rules were changed and the indexes are being
	// rebuilt for them; writes are refused with ErrRulesChanging meanwhile.
	RulesReindexing = "reindexing"
)

// StoredRules describes the rule set every process on a store uses.
type StoredRules struct {
	// Fingerprint is the SHA-256 of the rule text, in hex (Fingerprint).
	Fingerprint string `json:"fingerprint"`
	// Name is the file the rules were loaded from.
	Name string `json:"name"`
	// State is RulesActive or RulesReindexing.
	State string `json:"state"`
	// Since is when the rules were stored.
	Since time.Time `json:"since"`
	// Previous is the fingerprint of the rules they replaced, if any.
	Previous string `json:"previous,omitempty"`
	// Reindexes counts the rule changes whose reindex completed on this
	// store; ReindexedBy names who ran the last one.
	Reindexes   int    `json:"reindexes"`
	ReindexedBy string `json:"reindexedBy,omitempty"`
}

// Fingerprint identifies a rule set by its text: processes whose rules
// have the same fingerprint identify alike.
func Fingerprint(rs *rules.RuleSet) string {
	h := sha256.Sum256(rs.Source())
	return hex.EncodeToString(h[:])
}

// short is the first 12 characters of a fingerprint, for messages.
func short(fp string) string { return fp[:min(12, len(fp))] }

var (
	// ErrRulesChanging: the store's rules are being changed and its indexes
	// rebuilt; the write was refused and nothing of it stored. Send it again
	// shortly.
	ErrRulesChanging = errors.New("engine: the rules are being changed and the indexes rebuilt for them; nothing was written, try again shortly")
	// ErrRulesMismatch: this process's rules are not those the store's
	// other processes use (see RulesMismatchError).
	ErrRulesMismatch = errors.New("engine: rules differ from the store's")
	// ErrRulesLeaseHeld: another process is changing the rules.
	ErrRulesLeaseHeld = errors.New("engine: another process is changing the rules")
)

// RulesMismatchError is Open's refusal to write a shared store with other
// rules than those its processes use.
type RulesMismatchError struct {
	// Name and Fingerprint are this process's rules.
	Name, Fingerprint string
	// Stored are the store's.
	Stored StoredRules
}

// Error names both rule sets and the ways out.
func (e *RulesMismatchError) Error() string {
	state := ""
	if e.Stored.State == RulesReindexing {
		state = ", being changed to now"
	}
	return fmt.Sprintf("engine: this process's rules (%s, fingerprint %s) are not the rules every process on the store uses (%s, fingerprint %s, stored %s%s); "+
		"a process writes only with the store's rules: adopt them, or change the rules for every process",
		e.Name, short(e.Fingerprint), e.Stored.Name, short(e.Stored.Fingerprint), e.Stored.Since.UTC().Format(time.RFC3339), state)
}

// Is makes errors.Is(err, ErrRulesMismatch) true.
func (e *RulesMismatchError) Is(target error) bool { return target == ErrRulesMismatch }

// ReadStoredRules returns the rule set recorded in st and its text; nil
// when st records none (a new store, or one written before rule sets were
// recorded).
func ReadStoredRules(st store.Store) (*StoredRules, []byte, error) {
	var sr *StoredRules
	var src []byte
	err := st.View(func(r store.Reader) (err error) {
		if sr, err = readStoredRules(r); err != nil || sr == nil {
			return err
		}
		src, err = r.Get(store.RuleSourceKey())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("engine: the store records rules %s but not their text", short(sr.Fingerprint))
		}
		return err
	})
	return sr, src, err
}

// readStoredRules reads the record alone (a few hundred bytes), as every
// write on a shared store does.
func readStoredRules(r store.Reader) (*StoredRules, error) {
	b, err := r.Get(store.RuleSetKey())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sr StoredRules
	if err := json.Unmarshal(b, &sr); err != nil {
		return nil, fmt.Errorf("engine: the store's rule set record is damaged: %v", err)
	}
	return &sr, nil
}

// loadStoredRules compiles the rules st records.
func loadStoredRules(st store.Store) (*rules.RuleSet, *StoredRules, error) {
	sr, src, err := ReadStoredRules(st)
	if err != nil || sr == nil {
		return nil, sr, err
	}
	rs, err := rules.Load(sr.Name, src)
	if err != nil {
		return nil, sr, fmt.Errorf("engine: the store's rules (%s, fingerprint %s) do not load in this version: %w", sr.Name, short(sr.Fingerprint), err)
	}
	if fp := Fingerprint(rs); fp != sr.Fingerprint {
		return nil, sr, fmt.Errorf("engine: the store's rule text has fingerprint %s, its record says %s", short(fp), short(sr.Fingerprint))
	}
	return rs, sr, nil
}

// putStoredRules writes the record (and the text, when src is not nil).
func putStoredRules(txn store.Txn, sr *StoredRules, src []byte) error {
	b, err := json.Marshal(sr)
	if err != nil {
		return err
	}
	if src != nil {
		if err := txn.Set(store.RuleSourceKey(), src); err != nil {
			return err
		}
	}
	return txn.Set(store.RuleSetKey(), b)
}
