package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// cmdBackup writes a backup of a stopped server's store (a running server
// offers the same online to admins).
func cmdBackup(args []string, stdout, stderr io.Writer) int {
	var out string
	e, _, code := storeCommand("backup", args, stderr, "", func(fs *flag.FlagSet) {
		fs.StringVar(&out, "o", "", "backup file to write (- for stdout)")
	})
	if e == nil {
		return code
	}
	defer e.Close()
	if out == "" {
		fmt.Fprintln(stderr, "irego backup: need -o FILE")
		return exitUsage
	}
	w := stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			fmt.Fprintf(stderr, "irego backup: %v\n", err)
			return exitFail
		}
		defer f.Close()
		w = f
	}
	if err := e.Backup(w); err != nil {
		fmt.Fprintf(stderr, "irego backup: %v\n", err)
		return exitFail
	}
	if f, ok := w.(*os.File); ok && out != "-" {
		if err := f.Sync(); err != nil {
			fmt.Fprintf(stderr, "irego backup: %v\n", err)
			return exitFail
		}
	}
	return exitOK
}

// cmdRestore loads a backup into an empty store directory.
func cmdRestore(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e, fs, code := storeCommand("restore", args, stderr, "backup file (- for stdin)", nil)
	if e == nil {
		return code
	}
	defer e.Close()
	r := stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "irego restore: %v\n", err)
			return exitFail
		}
		defer f.Close()
		r = f
	}
	if err := e.Restore(r); err != nil {
		fmt.Fprintf(stderr, "irego restore: %v\n", err)
		return exitFail
	}
	for _, n := range e.Notices() {
		fmt.Fprintln(stderr, n)
	}
	fmt.Fprintln(stdout, "restored")
	return exitOK
}
