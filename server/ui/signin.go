package ui

import (
	"errors"
	"net/http"
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
// a forged cross-site form cannot know it.
func (c *Console) signinForm(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	setHeaders(w)
	if u, _, _ := c.user(r); u != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.showSignin(w, r, http.StatusOK, &signinData{Next: safeNext(r.URL.Query().Get("next"))}, start)
}

func (c *Console) showSignin(w http.ResponseWriter, r *http.Request, status int, d *signinData, start time.Time) {
	token := randomToken()
	setCookie(w, r, signinCookie, token, 600)
	c.render(w, r, status, "signin.html", &view{Title: "Sign in", CSRF: token, Data: d}, start, "signin")
}

// signin checks the form's token and the credentials, then starts a
// session. Failures are throttled like the API's.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	setHeaders(w)
	d := &signinData{Next: safeNext(r.PostFormValue("next")), Name: r.PostFormValue("name")}
	ck, err := r.Cookie(signinCookie)
	if err != nil || !c.checkPost(r, ck.Value) {
		d.Error = "The sign-in form's security token is missing or wrong (CSRF protection); please try again."
		c.showSignin(w, r, http.StatusForbidden, d, start)
		return
	}
	u, err := c.cfg.Users.SignIn(d.Name, r.PostFormValue("password"), r.RemoteAddr)
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		d.Error = "Too many failed sign-ins: try again in " + te.Retry.Round(time.Second).String() + "."
		c.showSignin(w, r, http.StatusTooManyRequests, d, start)
		return
	case errors.Is(err, auth.ErrBadCredentials):
		d.Error = "Wrong user name or password."
		c.showSignin(w, r, http.StatusUnauthorized, d, start)
		return
	case err != nil:
		c.cfg.Logger.Error("console sign-in", "user", d.Name, "err", err)
		d.Error = "The user accounts could not be read; see the server log."
		c.showSignin(w, r, http.StatusInternalServerError, d, start)
		return
	}
	if !mayUse(u) {
		d.Error = noRole(u)
		c.showSignin(w, r, http.StatusForbidden, d, start)
		return
	}
	id, _ := c.sessions.start(u.Name)
	setCookie(w, r, signinCookie, "", -1)
	setCookie(w, r, sessionCookie, id, 0)
	c.logPage(r, "signin", u.Name, http.StatusSeeOther, start)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
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
	setCookie(w, r, sessionCookie, "", -1)
	c.logPage(r, "signout", u.Name, http.StatusSeeOther, start)
	http.Redirect(w, r, "/ui/signin?signed_out=1", http.StatusSeeOther)
}
