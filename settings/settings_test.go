package settings_test

import (
	"errors"
	"testing"
	"time"

	"github.com/irego/irego/settings"
	"github.com/irego/irego/store/badger"
)

func TestSettings(t *testing.T) {
	db, err := badger.Open(badger.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := settings.New(db)
	if !s.Bool(settings.TokenInURL) || s.Bool(settings.ExposeDeprecatedAPI) || s.Duration(settings.ImportInterval) != 24*time.Hour || s.Ints(settings.ContractRequiredCustomFields) != nil {
		t.Errorf("defaults: %v %v %v %v", s.Bool(settings.TokenInURL), s.Bool(settings.ExposeDeprecatedAPI), s.Duration(settings.ImportInterval), s.Ints(settings.ContractRequiredCustomFields))
	}
	// All or nothing: one bad value changes nothing.
	var invalid *settings.InvalidError
	err = s.Set(map[string]string{settings.ExposeDeprecatedAPI: "true", settings.ImportInterval: "often"})
	if !errors.As(err, &invalid) || s.Bool(settings.ExposeDeprecatedAPI) {
		t.Fatalf("bad Set: %v, deprecated API %v", err, s.Bool(settings.ExposeDeprecatedAPI))
	}
	if err := s.Set(map[string]string{"nonsense": "1"}); !errors.As(err, &invalid) {
		t.Errorf("unknown setting: %v", err)
	}
	if err := s.Set(map[string]string{settings.ExposeDeprecatedAPI: "TRUE", settings.ImportInterval: "0", settings.ContractRequiredCustomFields: " 3, 1,3"}); err != nil {
		t.Fatal(err)
	}
	if !s.Bool(settings.ExposeDeprecatedAPI) || s.Duration(settings.ImportInterval) != 0 || len(s.Ints(settings.ContractRequiredCustomFields)) != 2 {
		t.Errorf("after Set: %v %v %v", s.Bool(settings.ExposeDeprecatedAPI), s.Duration(settings.ImportInterval), s.Ints(settings.ContractRequiredCustomFields))
	}
	all, err := s.All()
	if err != nil || len(all) != len(settings.Defs) {
		t.Fatalf("All: %v %v", all, err)
	}
	for _, v := range all {
		if v.Name == settings.ContractRequiredCustomFields && v.Value != "1,3" || v.Name == settings.ImportInterval && v.Value != "0s" {
			t.Errorf("%s = %v", v.Name, v.Value)
		}
	}
	for in, want := range map[any]string{"x": "x", true: "true", 12.0: "12"} {
		if got, ok := settings.Text(in); !ok || got != want {
			t.Errorf("Text(%v) = %q, %v", in, got, ok)
		}
	}
	if got, ok := settings.Text([]any{2.0, 3.0}); !ok || got != "2,3" {
		t.Errorf("Text(list) = %q", got)
	}
}
