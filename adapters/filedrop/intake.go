package filedrop

import (
	"context"
	"io"

	"github.com/paklog/integration-hub/internal/intake"
)

// MetaFilePath is the inbound message metadata naming the file's path on the
// partner's server.
const MetaFilePath = "file_path"

// IntakeSink commits files into the hub: each file is spooled (never held whole in
// memory), then accepted with its dedupe key and published to inbound.<Source> in
// one transaction. A file offered again with the same key (the poller died before
// archiving it) is a duplicate.
type IntakeSink struct {
	Intake *intake.Intake
	// Source is the inbound channel (default "edi").
	Source string
	// ContentType of the files (default "application/edi-x12").
	ContentType string
}

// Store implements Sink.
func (s IntakeSink) Store(ctx context.Context, f File, r io.Reader) (bool, error) {
	src, ct := s.Source, s.ContentType
	if src == "" {
		src = "edi"
	}
	if ct == "" {
		ct = "application/edi-x12"
	}
	res, err := s.Intake.AcceptFile(ctx, intake.Item{Source: src, Partner: f.Partner, ContentType: ct,
		Metadata: map[string]string{MetaFilePath: f.Path}}, r, func() (string, error) {
		k, err := f.Key()
		if err != nil {
			return "", err
		}
		return k.String(), nil
	})
	return res.Duplicate, err
}
