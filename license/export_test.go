package license

// SetInstallPage sets how many installs an import reads in one store
// view, for tests that cross pages with a few, and returns the undo.
func SetInstallPage(n int) (undo func()) {
	old := installPage
	installPage = n
	return func() { installPage = old }
}
