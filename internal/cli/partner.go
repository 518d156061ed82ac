package cli

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	connas2 "github.com/paklog/integration-hub/connectors/as2"
	edias2 "github.com/paklog/integration-hub/edi/as2"

	"github.com/paklog/integration-hub/adapters/filedrop"
	"github.com/paklog/integration-hub/adapters/ftp"
	"github.com/paklog/integration-hub/adapters/sftp"
	"github.com/paklog/integration-hub/internal/config"
)

func partnerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "partner",
		Short: "Check a trading partner's endpoints",
		Long:  `Onboarding tools for the trading partners in the configuration (partners).`,
	}
	cmd.AddCommand(partnerTestCmd())
	return cmd
}

// endpointCheck is one endpoint `partner test` visits.
type endpointCheck struct {
	label string // "sftp[0] poll", "outbound sftp"
	dial  filedrop.Dialer
	list  string // directory to list
	probe string // directory to write the probe file into; "" skips that step
	why   string // why the probe is skipped
}

func partnerTestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "test NAME",
		Short: "Connect to each of a partner's endpoints (SFTP, FTP, AS2), with a verdict per step",
		Long: `Check every SFTP and FTP endpoint of one partner: connect (verifying the pinned SFTP
host key or the FTPS certificate), list the directory the hub reads or writes, and write
and remove a probe file (.paklog-probe-*) where the hub itself writes: the archive
directory of a polled endpoint that archives, and the outbound directory. Nothing is
taken from the partner's directories. For an AS2 partner, check the certificates' dates
and send a signed, encrypted test message (text/plain) to its URL with the partner's
profile, verifying the MDN's signature and MIC. Each step prints PASS, FAIL or SKIP;
exit 0 when nothing failed, 1 otherwise.`,
		Example: `  paklog partner test acme --config hub.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			p, err := findPartner(cfg, args[0])
			if err != nil {
				return err
			}
			checks, err := partnerChecks(p)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Partner %s\n", p.Name)
			if len(p.Inbox.AuthorizedKeys) > 0 {
				fmt.Fprintf(out, "  INFO  inbox: %d key(s) may log in to the hosted SFTP inbox at %s\n", len(p.Inbox.AuthorizedKeys), cfg.SFTPInbox.Addr)
			}
			failed := false
			if p.AS2.Enabled() {
				if !testAS2(cmd.Context(), out, cfg, p) {
					failed = true
				}
			} else if len(checks) == 0 {
				fmt.Fprintln(out, "  The partner has no SFTP, FTP or AS2 endpoint to test.")
				return nil
			}
			for _, c := range checks {
				if !runChecks(cmd.Context(), out, c) {
					failed = true
				}
			}
			if failed {
				return &exitError{code: 1, msg: "partner test failed"}
			}
			fmt.Fprintln(out, "All steps passed.")
			return nil
		},
	}
	return cmd
}

func findPartner(cfg config.Config, name string) (config.Partner, error) {
	var names []string
	for _, p := range cfg.Partners {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		return config.Partner{}, fmt.Errorf("no partner %q: the configuration has none (partners; see paklog config example)", name)
	}
	return config.Partner{}, fmt.Errorf("no partner %q; configured: %s", name, strings.Join(names, ", "))
}

func partnerChecks(p config.Partner) ([]endpointCheck, error) {
	var out []endpointCheck
	add := func(label string, d filedrop.Dialer, fc filedrop.Config) {
		c := endpointCheck{label: label, dial: d, list: fc.Dir}
		switch fc.WithDefaults().After {
		case filedrop.Archive:
			c.probe = fc.ArchiveDir
		default:
			c.why = "the hub only reads here and " + string(fc.WithDefaults().After) + "s what it took"
		}
		out = append(out, c)
	}
	for i, e := range p.SFTP {
		sc := config.SFTPPollConfig(p, e)
		d, err := sftp.NewDialer(sc)
		if err != nil {
			return nil, err
		}
		add(fmt.Sprintf("sftp[%d] %s:%d", i, e.Host, sc.WithDefaults().Port), d, sc.Config)
	}
	for i, e := range p.FTP {
		fc, err := config.FTPPollConfig(p, e)
		if err != nil {
			return nil, err
		}
		d, err := ftp.NewDialer(fc)
		if err != nil {
			return nil, err
		}
		add(fmt.Sprintf("ftp[%d] %s:%d", i, e.Host, fc.WithDefaults().Port), d, fc.Config)
	}
	switch p.Outbound.Via {
	case config.ViaSFTP:
		sc := config.OutboundSFTPConfig(p)
		d, err := sftp.NewDialer(sc)
		if err != nil {
			return nil, err
		}
		out = append(out, endpointCheck{label: fmt.Sprintf("outbound sftp %s:%d", sc.Host, sc.WithDefaults().Port), dial: d, list: sc.Dir, probe: sc.Dir})
	case config.ViaFTP:
		fc, err := config.OutboundFTPConfig(p)
		if err != nil {
			return nil, err
		}
		d, err := ftp.NewDialer(fc)
		if err != nil {
			return nil, err
		}
		out = append(out, endpointCheck{label: fmt.Sprintf("outbound ftp %s:%d", fc.Host, fc.WithDefaults().Port), dial: d, list: fc.Dir, probe: fc.Dir})
	}
	return out, nil
}

// runChecks runs connect, list and probe on one endpoint; false when a step failed.
func runChecks(parent context.Context, out io.Writer, c endpointCheck) bool {
	fmt.Fprintf(out, "  %s\n", c.label)
	ctx, cancel := context.WithTimeout(parent, 2*time.Minute)
	defer cancel()
	step := func(name string, fn func() (string, error)) bool {
		start := time.Now()
		detail, err := fn()
		took := time.Since(start).Round(time.Millisecond)
		if err != nil {
			fmt.Fprintf(out, "    FAIL  %-8s %s (%s)\n          %s\n", name, endpointAdvice(err), took, err)
			return false
		}
		fmt.Fprintf(out, "    PASS  %-8s %s (%s)\n", name, detail, took)
		return true
	}
	var fsys filedrop.FS
	if !step("connect", func() (string, error) {
		var err error
		fsys, err = c.dial.Dial(ctx)
		return "connected, server identity verified, logged in", err
	}) {
		return false
	}
	defer fsys.Close()
	ok := step("list", func() (string, error) {
		es, err := fsys.List(ctx, c.list)
		return fmt.Sprintf("%s holds %d entries", c.list, len(es)), err
	})
	if c.probe == "" {
		fmt.Fprintf(out, "    SKIP  %-8s %s\n", "probe", c.why)
		return ok
	}
	w, writable := fsys.(filedrop.WriteFS)
	if !writable {
		return ok
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	name := path.Join(c.probe, ".paklog-probe-"+hex.EncodeToString(rnd[:]))
	return step("probe", func() (string, error) {
		if _, err := w.Put(ctx, name, strings.NewReader("paklog partner test\n")); err != nil {
			return "", fmt.Errorf("writing %s: %w", name, err)
		}
		if err := w.Remove(ctx, name); err != nil {
			return "", fmt.Errorf("removing %s (remove it by hand): %w", name, err)
		}
		return "wrote and removed " + name, nil
	}) && ok
}

// endpointAdvice says what a failed step means for the operator.
func endpointAdvice(err error) string {
	var hk *sftp.HostKeyError
	var ce *ftp.CertificateError
	switch {
	case errors.As(err, &hk):
		return "the server's host key is not the pinned one: confirm the new key with the partner, then update host_key"
	case errors.As(err, &ce):
		return "the server's certificate is not trusted: check ca_cert_file, cert_fingerprint and server_name"
	case errors.Is(err, filedrop.ErrConnection):
		return "the server could not be reached or refused the login: check host, port, user and key or password"
	}
	return "the server refused the operation: check the directory and the account's permissions"
}

// testAS2 checks the partner's and our certificates and sends a test message,
// verifying the MDN; false when a step failed.
func testAS2(ctx context.Context, out io.Writer, cfg config.Config, p config.Partner) bool {
	fmt.Fprintf(out, "  as2 %s -> %s\n", p.AS2.ID, p.AS2.URL)
	step := func(name string, fn func() (string, error)) bool {
		start := time.Now()
		detail, err := fn()
		took := time.Since(start).Round(time.Millisecond)
		if err != nil {
			fmt.Fprintf(out, "    FAIL  %-8s %s (%s)\n          %s\n", name, as2Advice(err), took, err)
			return false
		}
		fmt.Fprintf(out, "    PASS  %-8s %s (%s)\n", name, detail, took)
		return true
	}
	var prof *connas2.Profile
	if !step("certs", func() (string, error) {
		id, err := config.AS2Identity(cfg.AS2)
		if err != nil {
			return "", err
		}
		theirs, err := config.AS2Certificates(p.AS2, "as2")
		if err != nil {
			return "", err
		}
		now := time.Now()
		var notes []string
		for _, c := range append([]*x509.Certificate{id.Keys[0].Cert}, theirs...) {
			if now.After(c.NotAfter) || now.Before(c.NotBefore) {
				return "", fmt.Errorf("certificate %q is valid from %s to %s, not now", c.Subject.CommonName, c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
			}
			notes = append(notes, fmt.Sprintf("%s until %s", c.Subject.CommonName, c.NotAfter.Format(time.DateOnly)))
		}
		digest, sign, cipher, encrypt, comp, err := config.AS2Algorithms(p.AS2)
		if err != nil {
			return "", err
		}
		prof = &connas2.Profile{LocalID: id.ID, PartnerID: p.AS2.ID, URL: p.AS2.URL, Keys: id.Keys, EncryptCerts: theirs, SigningCerts: theirs,
			Unsigned: !sign, Unencrypted: !encrypt, Digest: digest, Cipher: cipher, Compression: comp, MDN: edias2.MDNSync,
			SignedMDN: sign && !p.AS2.UnsignedMDN, Timeout: p.AS2.Timeout.Std()}
		return "valid: " + strings.Join(notes, ", "), prof.Validate()
	}) {
		return false
	}
	if p.AS2.URL == "" {
		fmt.Fprintf(out, "    SKIP  %-8s the partner has no as2.url: the hub only receives from it\n", "send")
		return true
	}
	return step("send", func() (string, error) {
		s, err := connas2.New(connas2.Config{Profiles: func(context.Context, string, string) (*connas2.Profile, error) { return prof, nil }})
		if err != nil {
			return "", err
		}
		res, err := s.Send(ctx, prof, connas2.Message{Payload: []byte("paklog partner test " + time.Now().UTC().Format(time.RFC3339) + "\n"),
			ContentType: "text/plain", FileName: "paklog-partner-test.txt", Subject: "paklog partner test"})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s answered %s; MDN signature and MIC %s verified", res.MessageID, res.Disposition, res.MIC), nil
	})
}

// as2Advice says what a failed AS2 step means for the operator, in the
// configuration's terms.
func as2Advice(err error) string {
	var mdnErr *connas2.MDNError
	var httpErr *connas2.HTTPError
	var micErr *connas2.MICError
	var netErr net.Error
	switch {
	case errors.As(err, &mdnErr):
		switch mdnErr.Modifier {
		case edias2.DecryptionFailed:
			return "the partner cannot decrypt our message: partners[].as2.certs does not hold the partner's current certificate, or the partner does not accept as2.encrypt; get their current certificate"
		case edias2.AuthenticationFailed:
			return "the partner does not accept our signature or our AS2 id: send them our current certificate (as2.keys[0].cert) and check that they know us as as2.id"
		}
		return "the partner refused the test message: read its MDN text below and check the partner's AS2 settings for us"
	case errors.Is(err, connas2.ErrMDNSigner), errors.Is(err, connas2.ErrUnsignedMDN):
		return "the partner's MDN is not signed by a certificate in partners[].as2.certs: get the partner's current certificate and put it there (or set unsigned_mdn if they do not sign receipts)"
	case errors.Is(err, edias2.ErrUnknownPartner), errors.Is(err, connas2.ErrWrongParties):
		return "the MDN names other AS2 ids: check as2.id and partners[].as2.id with the partner"
	case errors.As(err, &micErr):
		return "the partner's receipt does not match what we sent (MIC): check with the partner for a proxy or gateway that changes messages"
	case errors.As(err, &httpErr):
		return "the partner's AS2 endpoint refused the request: check partners[].as2.url (path, scheme) with the partner"
	case errors.Is(err, connas2.ErrTimeout), errors.Is(err, connas2.ErrNoMDN):
		return "no MDN came back in time: check partners[].as2.url and timeout, and that the partner returns synchronous MDNs"
	case errors.As(err, &netErr), errors.Is(err, syscall.ECONNREFUSED):
		return "the partner's AS2 endpoint could not be reached: check partners[].as2.url, and that the partner's firewall lets us in"
	}
	return "check the partner's certificates (partners[].as2.certs), ours (as2.keys) and the algorithms with the partner"
}
