package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/auth"
)

type signinData struct {
	Next  string
	Name  string
	Error string
}

// safeNext keeps a post-sign-in target inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}

// signinForm shows the sign-in form with a fresh token, also in a cookie:
// a forged cross-site form cannot know it. A failed sign-in redirects
// here, naming why in the query (failed=…), so a reload does not post
// the password again.
func (c *Console) signinForm(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	setHeaders(w)
	q := r.URL.Query()
	if u, _, _ := c.user(r); u != nil {
		http.Redirect(w, r, safeNext(q.Get("next")), http.StatusSeeOther)
		return
	}
	d := &signinData{Next: safeNext(q.Get("next")), Name: q.Get("name")}
	status := http.StatusOK
	switch q.Get("failed") {
	case "":
	case "token":
		d.Error = "The sign-in form's security token is missing or wrong (CSRF protection); please try again."
	case "throttled":
		retry, _ := strconv.Atoi(q.Get("retry"))
		d.Error = "Too many failed sign-ins: try again in " + (time.Duration(max(retry, 1)) * time.Second).String() + "."
	case "role":
		d.Error = fmt.Sprintf("User %s has none of the roles the console needs (%s, or one of %v).", d.Name, auth.Admin, ReadRoles)
	case "store":
		d.Error = "The user accounts could not be read; see the server log."
	default:
		d.Error = "Wrong user name or password."
	}
	c.showSignin(w, r, status, d, start)
}

func (c *Console) showSignin(w http.ResponseWriter, r *http.Request, status int, d *signinData, start time.Time) {
	token := randomToken()
	c.setCookie(w, r, signinCookie, token, 600)
	c.render(w, r, status, "signin.html", &view{Title: "Sign in", CSRF: token, Data: d}, start, "signin")
}

// signin checks the form's token and the credentials, then starts a
// session. Failures are throttled like the API's. Every answer is a 303.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	setHeaders(w)
	next, name := safeNext(r.PostFormValue("next")), r.PostFormValue("name")
	failed := func(status int, why string, more ...string) {
		q := url.Values{"next": {next}, "name": {name}, "failed": {why}}
		for i := 0; i+1 < len(more); i += 2 {
			q.Set(more[i], more[i+1])
		}
		c.logPage(r, "signin", name, status, start)
		http.Redirect(w, r, "/ui/signin?"+q.Encode(), http.StatusSeeOther)
	}
	ck, err := r.Cookie(signinCookie)
	if err != nil || !c.checkPost(r, ck.Value) {
		failed(http.StatusForbidden, "token")
		return
	}
	u, err := c.cfg.Users.SignIn(r.Context(), name, r.PostFormValue("password"), r.RemoteAddr)
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		failed(http.StatusTooManyRequests, "throttled", "retry", strconv.Itoa(int(te.Retry.Round(time.Second)/time.Second)))
		return
	case errors.Is(err, auth.ErrBadCredentials):
		failed(http.StatusUnauthorized, "wrong")
		return
	case err != nil:
		c.cfg.Logger.Error("console sign-in", "user", name, "err", err)
		failed(http.StatusInternalServerError, "store")
		return
	}
	if !mayUse(u) {
		failed(http.StatusForbidden, "role")
		return
	}
	id, _ := c.sessions.start(u.Name)
	c.setCookie(w, r, signinCookie, "", -1)
	c.setCookie(w, r, sessionCookie, id, 0)
	c.logPage(r, "signin", u.Name, http.StatusSeeOther, start)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signout ends the session; it takes the session's CSRF token, so a
// forged form cannot sign anybody out.
func (c *Console) signout(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	setHeaders(w)
	u, ses, id := c.user(r)
	if u == nil {
		http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
		return
	}
	if !c.checkPost(r, ses.csrf) {
		c.fail(w, r, &view{User: u, CSRF: ses.csrf}, start, "signout", errorf(http.StatusForbidden, "The form's security token is missing or wrong (CSRF protection)."))
		return
	}
	c.sessions.end(id)
	c.setCookie(w, r, sessionCookie, "", -1)
	c.logPage(r, "signout", u.Name, http.StatusSeeOther, start)
	http.Redirect(w, r, "/ui/signin?signed_out=1", http.StatusSeeOther)
}
