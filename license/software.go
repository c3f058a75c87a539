package license

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/irego/irego/store"
)

// software is what contract imports may name: the titles imports found,
// and the products contract imports created (createSoftware=true).
type software struct {
	titles  []*Title
	created []Product
}

const softwareDoc = "software"

func readSoftware(r store.Reader) (*software, error) {
	d, err := readTitles(r)
	if err != nil {
		return nil, err
	}
	sw := &software{}
	for _, t := range d.titles {
		sw.titles = append(sw.titles, t)
	}
	b, err := r.Get(store.LicenseDocKey(softwareDoc))
	if errors.Is(err, store.ErrNotFound) {
		return sw, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &sw.created); err != nil {
		return nil, fmt.Errorf("license: corrupt software list: %w", err)
	}
	return sw, nil
}

// known reports whether p names a title or a created product.
func (sw *software) known(p Product) bool {
	if slices.ContainsFunc(sw.titles, p.covers) {
		return true
	}
	return slices.ContainsFunc(sw.created, func(c Product) bool {
		return strings.EqualFold(c.Name, p.Name) && (p.Publisher == "" || strings.EqualFold(c.Publisher, p.Publisher))
	})
}

func (sw *software) write(txn store.Txn) error {
	b, err := json.Marshal(sw.created)
	if err != nil {
		return err
	}
	return txn.Set(store.LicenseDocKey(softwareDoc), b)
}
