package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"

	"github.com/irego/irego/store"
)

// API tokens, as License Metric Tool hands them out: made on request, and
// valid until the user's password changes or the user is deleted. A
// request carries one instead of the password (the Token header), so a
// token is a password of its own: the store keeps only its SHA-256 digest
// (in the user's record and as the key store.TokenKey that finds the
// user), never the token, so neither the store nor a backup gives one
// away. For the same reason a token cannot be shown again: every request
// makes a new one, and a user holds at most MaxTokens (the oldest goes).

// MaxTokens is how many API tokens one user holds at once.
const MaxTokens = 16

// Token makes a new API token for user name. It returns ErrNotFound when
// there is no such user.
func (u *Users) Token(name string) (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b[:])
	err := u.write(func(txn store.Txn) error {
		rec, err := get(txn, name)
		if err != nil {
			return err
		}
		plainTokenToDigest(rec)
		for len(rec.TokenDigests) >= MaxTokens {
			if err := txn.Delete(store.TokenKey(rec.TokenDigests[0])); err != nil {
				return err
			}
			rec.TokenDigests = rec.TokenDigests[1:]
		}
		sum := Digest(token)
		rec.TokenDigests = append(rec.TokenDigests, sum)
		if err := txn.Set(store.TokenKey(sum), []byte(name)); err != nil {
			return err
		}
		return put(txn, rec)
	})
	return token, err
}

// VerifyToken returns the user token belongs to, or ErrBadCredentials.
func (u *Users) VerifyToken(token string) (*User, error) {
	if token == "" {
		return nil, ErrBadCredentials
	}
	sum := Digest(token)
	var rec *record
	err := u.st.View(func(r store.Reader) error {
		name, err := r.Get(store.TokenKey(sum))
		if errors.Is(err, store.ErrNotFound) {
			return ErrBadCredentials
		}
		if err != nil {
			return err
		}
		rec, err = get(r, string(name))
		if errors.Is(err, ErrNotFound) {
			return ErrBadCredentials
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// The key was found by the digest; the record must still hold it (a
	// password change drops both, but not in the same read).
	if !slices.Contains(rec.TokenDigests, sum) && (rec.Token == "" || Digest(rec.Token) != sum) {
		return nil, ErrBadCredentials
	}
	return rec.copyUser(), nil
}

// dropToken voids all of rec's tokens (the caller writes rec).
func dropToken(txn store.Txn, rec *record) error {
	plainTokenToDigest(rec)
	for _, sum := range rec.TokenDigests {
		if err := txn.Delete(store.TokenKey(sum)); err != nil {
			return err
		}
	}
	rec.TokenDigests = nil
	return nil
}

// plainTokenToDigest replaces the plain-text token an older version kept in
// rec by its digest.
func plainTokenToDigest(rec *record) {
	if rec.Token != "" {
		if sum := Digest(rec.Token); !slices.Contains(rec.TokenDigests, sum) {
			rec.TokenDigests = append(rec.TokenDigests, sum)
		}
		rec.Token = ""
	}
}

// forgetPlainTokens rewrites the records that still hold a token in plain
// text, as versions before digests-only kept them.
func (u *Users) forgetPlainTokens() error {
	var names []string
	if err := u.st.View(func(r store.Reader) error {
		return eachUser(r, func(rec *record) error {
			if rec.Token != "" {
				names = append(names, rec.Name)
			}
			return nil
		})
	}); err != nil {
		return err
	}
	for _, name := range names {
		if err := u.write(func(txn store.Txn) error {
			rec, err := get(txn, name)
			if err != nil {
				return err
			}
			plainTokenToDigest(rec)
			return put(txn, rec)
		}); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// Digest returns the hex SHA-256 digest of an API token: what the store
// keeps of it.
func Digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
