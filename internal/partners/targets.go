package partners

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/paklog/integration-hub/adapters/sftpinbox"
	"github.com/paklog/integration-hub/connectors/fileput"
	"github.com/paklog/integration-hub/connectors/ftp"
	"github.com/paklog/integration-hub/connectors/sftp"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/fault"
)

// putTarget delivers with a fileput.Putter (SFTP, FTP).
type putTarget struct {
	p   *fileput.Putter
	via string
}

func (t putTarget) Put(ctx context.Context, name string, r io.Reader) (string, error) {
	rc, err := t.p.Put(ctx, name, r)
	return rc.Path, err
}

func (t putTarget) Via() string { return t.via }

// inboxTarget places files in the partner's /outbound of the hosted inbox.
type inboxTarget struct {
	s       *sftpinbox.Server
	partner string
}

func (t inboxTarget) Put(ctx context.Context, name string, r io.Reader) (string, error) {
	if err := t.s.Put(t.partner, name, r); err != nil {
		if errors.Is(err, sftpinbox.ErrUnknownPartner) || strings.Contains(err.Error(), "not a base file name") {
			return "", fault.AsPermanent(err)
		}
		return "", fault.AsTransient(err)
	}
	return "/outbound/" + name, nil
}

func (t inboxTarget) Via() string { return config.ViaInbox }

// Targets builds the delivery target of every partner with an outbound section.
// inbox may be nil when no partner uses it, as2 when no partner exchanges AS2.
func Targets(cfg config.Config, inbox *sftpinbox.Server, as2 *AS2) (map[string]Target, error) {
	out := map[string]Target{}
	for _, p := range cfg.Partners {
		switch p.Outbound.Via {
		case "":
		case config.ViaSFTP:
			pt, err := sftp.New(config.OutboundSFTPConfig(p))
			if err != nil {
				return nil, err
			}
			out[p.Name] = putTarget{p: pt, via: config.ViaSFTP}
		case config.ViaFTP:
			fc, err := config.OutboundFTPConfig(p)
			if err != nil {
				return nil, err
			}
			pt, err := ftp.New(fc)
			if err != nil {
				return nil, err
			}
			out[p.Name] = putTarget{p: pt, via: config.ViaFTP}
		case config.ViaInbox:
			if inbox == nil {
				return nil, fmt.Errorf("partner %q delivers by the inbox, but the inbox is not running", p.Name)
			}
			out[p.Name] = inboxTarget{s: inbox, partner: p.Name}
		case config.ViaAS2:
			t, ok := as2.targetOf(p.Name)
			if !ok {
				return nil, fmt.Errorf("partner %q delivers by AS2 but has no as2 section", p.Name)
			}
			out[p.Name] = t
		}
	}
	return out, nil
}
