package servicenow_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/server"
)

// Serving the ServiceNow adapter inside a program's own http.ServeMux:
// irego's server authenticates and checks roles, the program keeps its
// other routes.
func Example_embed() {
	e, err := engine.Open("", engine.Options{InMemory: true})
	if err != nil {
		panic(err)
	}
	defer e.Close()
	users := auth.New(e.Store())
	if _, err := users.Add("discovery", "s3cret-Pass", []string{"itil"}); err != nil {
		panic(err)
	}
	srv, err := server.New(server.Config{Engine: e, Users: users,
		Groups: []api.Group{servicenow.Routes(e)}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/now/", srv.Handler()) // ServiceNow's paths go to irego
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") })
	ts := httptest.NewServer(mux)
	defer ts.Close()

	post := func(body string) string {
		req, _ := http.NewRequest("POST", ts.URL+"/api/now/identifyreconcile?sysparm_data_source=SCCM", strings.NewReader(body))
		req.SetBasicAuth("discovery", "s3cret-Pass")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprint(resp.StatusCode, " ", strings.Contains(string(b), `"operation":"INSERT"`))
	}
	fmt.Println(post(`{"items":[{"className":"cmdb_ci_computer","values":{"name":"pc1","serial_number":"SN-1"}}]}`))
	resp, err := http.Get(ts.URL + "/hello")
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(b))
	resp, _ = http.Get(ts.URL + "/api/now/table/cmdb_ci") // no credentials
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 200 true
	// 200 hello
	// 401
}
