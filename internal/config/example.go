package config

import (
	_ "embed"
	"slices"
)

//go:embed testdata/hub.example.yaml
var exampleYAML []byte

// ExampleYAML returns a hub.yaml that lists every field with its default
// and a comment, for `paklog config example`. It loads to [Default].
func ExampleYAML() []byte { return slices.Clone(exampleYAML) }
