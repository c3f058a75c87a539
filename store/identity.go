package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// An identity (one identifier entry's values within a scope) may be held by
// several CIs: ServiceNow lets two computers share a name. The guard key
// counts the holders and, when there is exactly one, names it, so the
// common lookup is one Get and the common write one Set; only when there
// are two or more has each holder a member key. Every change of the holders
// writes the guard, and every lookup reads it: two transactions that race
// to create the first holder of an identity conflict, so the engine's retry
// sees the other's CI instead of creating a second one.

// IdentityHolders returns the sys_ids holding identity, sorted; nil when
// none does.
func IdentityHolders(r Reader, identity []byte) ([]string, error) {
	b, err := r.Get(identity)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	n, only, err := decodeGuard(b)
	if err != nil {
		return nil, fmt.Errorf("store: identity guard %q: %w", identity, err)
	}
	if n == 1 {
		return []string{only}, nil
	}
	return members(r, identity)
}

func members(r Reader, identity []byte) ([]string, error) {
	var out []string
	prefix := IdentityMemberPrefix(identity)
	err := r.Iterate(prefix, func(k, _ []byte) error {
		if len(k) == len(prefix)+SysIDLen {
			out = append(out, string(k[len(prefix):]))
		}
		return nil
	})
	return out, err
}

// HoldIdentity makes sysID a holder of identity (nothing when it is one).
func HoldIdentity(txn Txn, identity []byte, sysID string) error {
	n, only, err := readGuard(txn, identity)
	if err != nil {
		return err
	}
	mk := IdentityMemberKey(identity, sysID)
	switch {
	case n == 0:
		return txn.Set(identity, encodeGuard(1, sysID))
	case n == 1 && only == sysID:
		return nil
	case n == 1:
		// The single holder gets the member key it did without.
		if err := txn.Set(IdentityMemberKey(identity, only), nil); err != nil {
			return err
		}
	default:
		if _, err := txn.Get(mk); err == nil {
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if err := txn.Set(mk, nil); err != nil {
		return err
	}
	return txn.Set(identity, encodeGuard(n+1, sysID))
}

// ReleaseIdentity removes sysID from the holders of identity (nothing when
// it is not one).
func ReleaseIdentity(txn Txn, identity []byte, sysID string) error {
	n, only, err := readGuard(txn, identity)
	if err != nil || n == 0 {
		return err
	}
	if n == 1 {
		if only != sysID {
			return nil
		}
		return txn.Delete(identity)
	}
	mk := IdentityMemberKey(identity, sysID)
	if _, err := txn.Get(mk); errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if err := txn.Delete(mk); err != nil {
		return err
	}
	rest := ""
	if n == 2 {
		// The one left becomes a single holder, named by the guard alone.
		ids, err := members(txn, identity)
		if err != nil {
			return err
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return id == sysID })
		if len(ids) != 1 {
			return fmt.Errorf("store: identity guard %q counts 2 holders, members list %d", identity, len(ids)+1)
		}
		rest = ids[0]
		if err := txn.Delete(IdentityMemberKey(identity, rest)); err != nil {
			return err
		}
	}
	return txn.Set(identity, encodeGuard(n-1, rest))
}

// ChangeIdentities moves sysID from the identities in old to those in new:
// it releases what only old has and holds what only new has.
func ChangeIdentities(txn Txn, sysID string, old, new [][]byte) error {
	for _, k := range old {
		if !containsBytes(new, k) {
			if err := ReleaseIdentity(txn, k, sysID); err != nil {
				return err
			}
		}
	}
	for _, k := range new {
		if !containsBytes(old, k) {
			if err := HoldIdentity(txn, k, sysID); err != nil {
				return err
			}
		}
	}
	return nil
}

// DecodeIdentityGuard returns the holder count a guard value records, and
// the holder when there is one.
func DecodeIdentityGuard(b []byte) (int, string, error) { return decodeGuard(b) }

func readGuard(r Reader, identity []byte) (int, string, error) {
	b, err := r.Get(identity)
	if errors.Is(err, ErrNotFound) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", err
	}
	n, only, err := decodeGuard(b)
	if err != nil {
		return 0, "", fmt.Errorf("store: identity guard %q: %w", identity, err)
	}
	return n, only, nil
}

// A guard value is the holder count as a uvarint, followed by the sys_id
// of the holder when the count is 1.
func encodeGuard(n int, only string) []byte {
	b := binary.AppendUvarint(nil, uint64(n))
	if n == 1 {
		b = append(b, only...)
	}
	return b
}

func decodeGuard(b []byte) (int, string, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n == 0 {
		return 0, "", errors.New("malformed holder count")
	}
	rest := b[w:]
	if n == 1 {
		if len(rest) != SysIDLen {
			return 0, "", errors.New("a single holder without its sys_id")
		}
		return 1, string(rest), nil
	}
	if len(rest) != 0 {
		return 0, "", errors.New("trailing bytes")
	}
	return int(n), "", nil
}

func containsBytes(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if string(x) == string(k) {
			return true
		}
	}
	return false
}
