package rules_test

import (
	"fmt"
	"testing/fstest"

	"github.com/irego/irego/rules"
)

// A rule file read from a file system, such as one embedded with go:embed;
// errors point at the file and line.
func ExampleLoadFS() {
	fsys := fstest.MapFS{
		"rules/robots.yaml": {Data: []byte(`
classes:
  - name: cmdb_ci
  - {name: u_robot, extends: cmdb_ci}
identification:
  - name: Robot
    applies_to: u_robot
    entries:
      - {priority: 100, attributes: [serial_number]}
`)},
		"rules/broken.yaml": {Data: []byte(`
classes:
  - {name: u_robot, extends: cmdb_nothing}
`)},
	}
	rs, err := rules.LoadFS(fsys, "rules/robots.yaml")
	if err != nil {
		panic(err)
	}
	robot, _ := rs.Class("u_robot")
	fmt.Println(robot.Name, "extends", robot.Parent.Name, "identified by", robot.Rule.Name)
	_, err = rules.LoadFS(fsys, "rules/broken.yaml")
	fmt.Println(err)
	// Output:
	// u_robot extends cmdb_ci identified by Robot
	// rules/broken.yaml:3: class "u_robot": extends: unknown class "cmdb_nothing"
}
