package payload

import "strings"

// reclassFlags reads an item's settings object and its item-level
// classUpgrade, classDowngrade and classSwitch flags. A flag is a boolean
// or the text "true" or "false" (ServiceNow's own samples send text);
// settings keys irego does not know are ignored, as ServiceNow does.
func reclassFlags(it *Item, obj map[string]any, path string) error {
	for _, f := range []struct {
		name string
		dst  **bool
	}{{"classUpgrade", &it.ClassUpgrade}, {"classDowngrade", &it.ClassDowngrade}, {"classSwitch", &it.ClassSwitch}} {
		raw, ok := obj[f.name]
		if !ok || raw == nil {
			continue
		}
		b, err := flag(raw, path+"."+f.name)
		if err != nil {
			return err
		}
		*f.dst = &b
	}
	raw, ok := obj["settings"]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return errAt(path+".settings", "must be an object, got %s", kindOf(raw))
	}
	st := &Settings{}
	for _, f := range []struct {
		name string
		dst  *bool
	}{
		{"skipReclassificationRestrictionRules", &st.SkipReclassificationRestrictionRules},
		{"updateWithoutUpgrade", &st.UpdateWithoutUpgrade},
		{"updateWithoutDowngrade", &st.UpdateWithoutDowngrade},
		{"updateWithoutSwitch", &st.UpdateWithoutSwitch},
	} {
		v, ok := m[f.name]
		if !ok || v == nil {
			continue
		}
		b, err := flag(v, path+".settings."+f.name)
		if err != nil {
			return err
		}
		*f.dst = b
	}
	it.Settings = st
	return nil
}

func flag(raw any, path string) (bool, error) {
	switch v := raw.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, errAt(path, "must be true or false, got %s", kindOf(raw))
}

func cloneFlag(b *bool) *bool {
	if b == nil {
		return nil
	}
	c := *b
	return &c
}
