// Package settings keeps the server's advanced settings (License Metric
// Tool's "Advanced Server Settings"): a fixed set of named, typed values
// with defaults, stored in the engine's store under store.SettingKey, so
// they survive restarts and travel with backups.
//
// # Basics
//
//	s := settings.New(e.Store())
//	on := s.Bool(settings.TokenInURL)              // the default until set
//	err := s.Set(map[string]string{"expose_deprecated_api": "true"})
//	all, err := s.All()                            // every setting with its value
//
// Set checks every change before writing any: an unknown name or a value of
// the wrong type fails the whole call with an *InvalidError.
//
// # Concurrency
//
// A Settings is safe for concurrent use. Every read goes to the store, so a
// change is seen at once by every reader on the same store.
package settings
