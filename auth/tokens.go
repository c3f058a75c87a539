package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"

	"github.com/irego/irego/store"
)

// API tokens, as License Metric Tool hands them out: one per user, made on
// first request and returned again on later ones, until the user's password
// changes or the user is deleted. A request carries it instead of the
// password (the Token header), so a token is a password of its own: it is
// looked up by its SHA-256 digest (store.TokenKey) and compared in constant
// time with the one in the user's record.

// Token returns the API token of user name, making one on first use. It
// returns ErrNotFound when there is no such user.
func (u *Users) Token(name string) (string, error) {
	var token string
	err := u.write(func(txn store.Txn) error {
		rec, err := get(txn, name)
		if err != nil {
			return err
		}
		if rec.Token != "" {
			token = rec.Token
			return nil
		}
		var b [20]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		token = hex.EncodeToString(b[:])
		rec.Token = token
		if err := txn.Set(store.TokenKey(digest(token)), []byte(name)); err != nil {
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
	var rec *record
	err := u.st.View(func(r store.Reader) error {
		name, err := r.Get(store.TokenKey(digest(token)))
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
	if subtle.ConstantTimeCompare([]byte(rec.Token), []byte(token)) != 1 {
		return nil, ErrBadCredentials
	}
	return rec.copyUser(), nil
}

// dropToken voids rec's token (the caller writes rec).
func dropToken(txn store.Txn, rec *record) error {
	if rec.Token == "" {
		return nil
	}
	err := txn.Delete(store.TokenKey(digest(rec.Token)))
	rec.Token = ""
	return err
}

func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
