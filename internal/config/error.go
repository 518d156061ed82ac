package config

import (
	"strconv"
	"strings"
)

// Error lists every problem found in a configuration. [Load] and [Parse]
// return it with File set and each Problem's Line taken from the file;
// [Config.Validate] returns it without them, and [ApplyEnv] returns it with
// File "environment" and the variable's name as the Field.
type Error struct {
	File     string    // the file's name as given to Load or Parse; may be empty
	Problems []Problem // in the order of the file; problems without a line come last
}

// Problem is one thing wrong with a configuration.
type Problem struct {
	Line    int    // 1-based line in the file; 0 when unknown (e.g. a field the file does not set)
	Field   string // dotted field path such as "store.postgres.dsn"; empty for a YAML syntax error
	Message string // what is wrong, naming the value and the limit
}

// Error returns one problem per line, each as "file:line: field: message".
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.format(e.File))
	}
	return b.String()
}

func (p Problem) format(file string) string {
	var b strings.Builder
	switch {
	case file != "" && p.Line > 0:
		b.WriteString(file + ":" + strconv.Itoa(p.Line) + ": ")
	case file != "":
		b.WriteString(file + ": ")
	case p.Line > 0:
		b.WriteString("line " + strconv.Itoa(p.Line) + ": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}
