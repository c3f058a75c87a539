package license

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/irego/irego/store"
)

// Kinds of dimension records.
const (
	kindSystem = "cs"
	kindTitle  = "st"
)

// ComputerSystem is a computer or cloud host usage is reported for.
type ComputerSystem struct {
	ID    uint64 `json:"id"`
	SysID string `json:"sys_id"`
	Class string `json:"class"`
	Name  string `json:"name"`
	// Values are the CI's values as the last import saw them; computer
	// group conditions are evaluated over them.
	Values map[string]any `json:"values"`
	// Server is the computer system the licenses of this one are counted
	// on: the cloud host of a VM on a dedicated host, else itself.
	Server uint64 `json:"server"`
}

// Cores is the system's cpu_core_count, 0 when unknown.
func (c *ComputerSystem) Cores() float64 {
	f, _ := number(c.Values["cpu_core_count"])
	return f
}

// Title is a software title: publisher, display name and version of the
// installs it stands for.
type Title struct {
	ID            uint64 `json:"id"`
	Publisher     string `json:"publisher"`
	Product       string `json:"product"` // the installs' display_name
	Version       string `json:"version,omitempty"`
	GUID          string `json:"guid"`
	PublisherGUID string `json:"publisher_guid"`
}

// Name is the title's name: the display name and, when known, the version.
func (t *Title) Name() string {
	if t.Version == "" {
		return t.Product
	}
	return t.Product + " " + t.Version
}

// newTitle makes the title of an install's values.
func newTitle(values map[string]any) *Title {
	s := func(k string) string { v, _ := values[k].(string); return strings.TrimSpace(v) }
	t := &Title{Publisher: s("publisher"), Product: s("display_name"), Version: s("version")}
	if t.Product == "" {
		t.Product = s("name")
	}
	t.GUID = guid("title", t.Publisher, t.Product, t.Version)
	t.PublisherGUID = guid("publisher", t.Publisher)
	return t
}

// key is the title's natural key.
func (t *Title) key() string {
	b, _ := json.Marshal([]string{t.Publisher, t.Product, t.Version})
	return string(b)
}

// guid is a name-based UUID (version 5 layout over SHA-1), stable for the
// same names.
func guid(parts ...string) string {
	h := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// dims are the computer systems and titles known, by id.
type dims struct {
	systems map[uint64]*ComputerSystem
	titles  map[uint64]*Title
}

// readTitles reads the titles; d.systems is empty: reads look computer
// systems up one at a time (see snapshot.system).
func readTitles(r store.Reader) (*dims, error) {
	d := &dims{systems: map[uint64]*ComputerSystem{}, titles: map[uint64]*Title{}}
	err := r.Iterate(store.LicenseDimPrefix(kindTitle), func(_, v []byte) error {
		var t Title
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("license: corrupt software title: %w", err)
		}
		d.titles[t.ID] = &t
		return nil
	})
	return d, err
}

// lookupID returns the id stored for a natural key, 0 when none.
func lookupID(r store.Reader, kind, key string) (uint64, error) {
	b, err := r.Get(store.LicenseDimIndexKey(kind, key))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("license: corrupt id of %s %q", kind, key)
	}
	return binary.BigEndian.Uint64(b), nil
}

// number reads a stored value as a number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}
