// Command paklog is the PakLog Integration Hub: `paklog demo` runs the whole chain on an
// embedded database, `paklog serve` runs the hub. `paklog --help` lists the commands.
package main

import (
	"os"

	"github.com/paklog/integration-hub/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
