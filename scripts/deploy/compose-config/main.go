// compose-config loads a Compose file with compose-go, the loader `docker compose config` runs
// (schema validation, interpolation, merge keys, normalisation), and prints the resolved project
// as JSON. No Docker engine or Compose plugin is needed, so the deploy test can check
// docker-compose.yml on machines that have neither. Variables come from the process environment
// only (no .env file), so a run is reproducible.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-config <docker-compose.yml>")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions([]string{os.Args[1]}, cli.WithOsEnv)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
