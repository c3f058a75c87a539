package ui

import (
	"fmt"
	"html/template"
	"time"

	"github.com/irego/irego/payload"
)

var funcs = template.FuncMap{
	"short": func(id string) string {
		if len(id) > 8 {
			return id[:8] + "…"
		}
		return id
	},
	"ms": func(d time.Duration) string {
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	},
	"add":    func(a, b int) int { return a + b },
	"num":    num,
	"when":   when,
	"issues": issues,
}

// text renders a stored value as the API's canonical text.
func text(v any) string {
	if v == nil {
		return ""
	}
	return payload.Canonical(v)
}

func textOrAbsent(v any) string {
	if v == nil {
		return "—"
	}
	return payload.Canonical(v)
}

// when renders a time in UTC to the second; "" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// palette colours classes in the graph: distinct, and dark enough for
// white text (contrast 4.5:1 or more).
var palette = []string{"#1f5f99", "#8a3b12", "#2e6b30", "#6b2f8a", "#8a1c3b", "#00636b", "#5c5c00", "#4a4a4a", "#7a4b00", "#3b3b8f"}
