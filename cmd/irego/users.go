package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/irego/irego/auth"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

const usersUsage = `usage:
  irego users add    --db DIR --name NAME --roles ROLE,... [--replace]   (password: first line of stdin)
  irego users list   --db DIR
  irego users delete --db DIR --name NAME
  irego users passwd --db DIR NAME       (new password: first line of stdin; an empty line makes a random one, printed)
The store must not be in use: while irego serve runs, use its /api/irego/users endpoints.
`

func cmdUsers(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		printHelp(stderr, "users", nil)
		fmt.Fprint(stderr, "\n"+usersUsage+"irego help users SUBCOMMAND lists its flags.\n")
		return exitOK
	}
	if len(args) == 0 || (args[0] != "add" && args[0] != "list" && args[0] != "delete" && args[0] != "passwd") {
		fmt.Fprint(stderr, "irego users: need a subcommand\n"+usersUsage)
		return exitUsage
	}
	sub := args[0]
	fs := newFlags("users " + sub)
	db := fs.String("db", "", "store directory")
	name := fs.String("name", "", "user name")
	roles := fs.String("roles", "", "comma-separated roles: "+strings.Join(knownRoles(), ", "))
	replace := fs.Bool("replace", false, "add: replace the password and roles of an existing user")
	if code, ok := parseFlags(fs, args[1:], stderr); !ok {
		return code
	}
	if sub == "passwd" && *name == "" && fs.NArg() == 1 {
		*name = fs.Arg(0)
	} else if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "irego users %s: unexpected arguments %v\n%s", sub, fs.Args(), usersUsage)
		return exitUsage
	}
	if *db == "" || (sub != "list" && *name == "") || (sub == "add" && *roles == "") {
		fmt.Fprintf(stderr, "irego users %s: missing flags\n%s", sub, usersUsage)
		return exitUsage
	}
	if _, err := os.Stat(*db); err != nil && sub != "add" {
		fmt.Fprintf(stderr, "irego users: no store at %s\n", *db)
		return exitFail
	}
	st, err := openStore(*db)
	if err != nil {
		fmt.Fprintf(stderr, "irego users: %v\n", err)
		return exitFail
	}
	defer st.Close()
	users := auth.New(st)
	switch sub {
	case "list":
		list, err := users.List()
		if err == nil {
			for _, u := range list {
				fmt.Fprintf(stdout, "%s\t%s\n", u.Name, strings.Join(u.Roles, ","))
			}
		}
		return report(stderr, err)
	case "delete":
		return report(stderr, users.Delete(*name))
	case "passwd":
		return passwd(users, *name, stdin, stdout, stderr)
	}
	rs := strings.Split(*roles, ",")
	for i := range rs {
		rs[i] = strings.TrimSpace(rs[i])
	}
	if err := auth.UnknownRoles(rs, knownRoles()); err != nil {
		return report(stderr, err)
	}
	password, err := readPassword(*name, stdin, stderr)
	if err != nil {
		return report(stderr, err)
	}
	_, err = users.Add(*name, password, rs)
	if errors.Is(err, auth.ErrExists) && *replace {
		_, err = users.Update(*name, auth.Change{Password: &password, Roles: rs})
	} else if errors.Is(err, auth.ErrExists) {
		err = fmt.Errorf("user %q exists; add --replace to change its password and roles", *name)
	}
	return report(stderr, err)
}

// readPassword reads the first line of stdin, prompting when it is a
// terminal.
func readPassword(name string, stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(stderr, "password for %s (it will show as you type): ", name)
		}
	}
	password, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	return strings.TrimRight(password, "\r\n"), nil
}

// passwd sets a user's password: the line read from stdin, or a random
// one, printed, when the line is empty.
func passwd(users *auth.Users, name string, stdin io.Reader, stdout, stderr io.Writer) int {
	password, err := readPassword(name, stdin, stderr)
	if err != nil {
		return report(stderr, err)
	}
	random := password == ""
	if random {
		password = auth.RandomPassword()
	}
	if _, err := users.Update(name, auth.Change{Password: &password}); err != nil {
		if errors.Is(err, auth.ErrNotFound) {
			err = fmt.Errorf("no user %q (irego users list shows who there is)", name)
		}
		return report(stderr, err)
	}
	if random {
		fmt.Fprintf(stdout, "new password of %s: %s\n", name, password)
	}
	return exitOK
}

// openStore opens the store alone (no rules, no reindexing): users live
// beside the CIs and need neither.
func openStore(dir string) (store.Store, error) {
	db, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		if strings.Contains(err.Error(), "directory lock") {
			return nil, fmt.Errorf("the store %s is in use, probably by irego serve; while it runs, manage users through its /api/irego/users endpoints", dir)
		}
		return nil, err
	}
	if err := store.CheckSchema(db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func report(stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "irego users: %v\n", err)
		return exitFail
	}
	return exitOK
}
