// Package ftp delivers files to a partner's FTP server (explicit FTPS by default):
// each file is stored as NAME.tmp, its size checked with SIZE, then renamed to NAME
// (RNFR/RNTO) — see connectors/fileput. The connection is adapters/ftp's: the server
// certificate is checked against a CA or a pinned fingerprint.
package ftp

import (
	"errors"
	"net/textproto"

	adapterftp "github.com/paklog/integration-hub/adapters/ftp"
	"github.com/paklog/integration-hub/connectors/fileput"
)

// New returns a Putter for cfg's server and cfg.Dir. Only the connection fields, the
// partner and Dir of cfg are used.
func New(cfg adapterftp.Config) (*fileput.Putter, error) {
	d, err := adapterftp.NewDialer(cfg)
	if err != nil {
		return nil, err
	}
	return &fileput.Putter{Partner: cfg.Partner, Protocol: "ftp", Dir: cfg.Dir, Dial: d, Permanent: Permanent}, nil
}

// Permanent reports the FTP replies no retry fixes: the 5xx permanent negative
// completions (550 no such file or permission denied, 553 name not allowed, 530 not
// logged in). 4xx replies are transient.
func Permanent(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500 && te.Code < 600
}
