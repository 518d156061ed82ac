package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	pkgsftp "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/fixtures/demo"
	"github.com/paklog/integration-hub/fixtures/sftpsim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/store"
)

// The demo's two file partners: one leaves its 850s on its own SFTP server (played
// by sftpsim), one uploads to the hub's hosted inbox.
const (
	demoSFTPPartner  = "demo-sftp"
	demoInboxPartner = "demo-inbox"
	demoSFTPPO       = "SFTP-1001"
	demoInboxPO      = "INBOX-2001"
)

// demoPartners is the file side of the demo: the partner's SFTP server and the key the
// inbox partner logs in with.
type demoPartners struct {
	sim *sftpsim.Server
	key ssh.Signer
}

func startDemoPartners() (*demoPartners, error) {
	sim, err := sftpsim.Start("paklog", "/outbound", "/archive", "/inbound")
	if err != nil {
		return nil, fmt.Errorf("starting the demo partner's SFTP server: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		sim.Close()
		return nil, err
	}
	key, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		sim.Close()
		return nil, err
	}
	return &demoPartners{sim: sim, key: key}, nil
}

func (d *demoPartners) Close() { d.sim.Close() }

// configure adds the two partners: demo-sftp polled on its server (host key pinned)
// with its 997 and 856 put back there, demo-inbox with an inbox key and its 997 and
// 945 in its /outbound.
func (d *demoPartners) configure(c *config.Config) {
	login := config.SFTPLogin{Host: d.sim.Host(), Port: d.sim.Port(), User: d.sim.User,
		PrivateKey: config.NewSecret(strings.TrimSpace(string(d.sim.ClientKeyPEM))), HostKey: d.sim.HostKeyFingerprint()}
	c.Partners = append(c.Partners,
		config.Partner{Name: demoSFTPPartner,
			SFTP: []config.SFTPPoll{{SFTPLogin: login, FileDrop: config.FileDrop{Dir: "/outbound", Glob: "*.edi", Settle: 1,
				ArchiveDir: "/archive", Interval: config.Duration(200 * time.Millisecond)}}},
			Outbound: config.Outbound{Via: config.ViaSFTP, Dir: "/inbound", SFTP: login},
			X12:      config.X12Partner{ShipNotice: "856"}},
		config.Partner{Name: demoInboxPartner,
			X12:      config.X12Partner{ShipNotice: "945"},
			Inbox:    config.Inbox{AuthorizedKeys: []string{strings.TrimSpace(string(ssh.MarshalAuthorizedKey(d.key.PublicKey())))}},
			Outbound: config.Outbound{Via: config.ViaInbox}})
	c.SFTPInbox.Addr = "127.0.0.1:0"
}

func demo850(po string) []byte {
	return []byte(strings.ReplaceAll(string(demo.Partner850), "{PO}", po))
}

// send drops one 850 on the partner's server and uploads one to the hosted inbox,
// and returns the two orders to follow once the hub has made them.
func (d *demoPartners) send(ctx context.Context, out io.Writer, h *hub.Hub) ([]*demoOrder, error) {
	start := time.Now()
	c, err := d.sim.Client()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := writeRemote(c, "/outbound/"+demoSFTPPO+".edi", demo850(demoSFTPPO)); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "   %s leaves %s.edi on its own SFTP server; the hub polls it (host key %s pinned)\n", demoSFTPPartner, demoSFTPPO, d.sim.HostKeyFingerprint())

	inbox, err := d.inboxClient(h)
	if err != nil {
		return nil, err
	}
	defer inbox.Close()
	if err := writeRemote(inbox, "/inbound/"+demoInboxPO+".edi", demo850(demoInboxPO)); err != nil {
		return nil, fmt.Errorf("uploading to the hosted inbox: %w", err)
	}
	fmt.Fprintf(out, "   %s uploads %s.edi to the hosted inbox sftp://%s/inbound (stored before its close returned)\n", demoInboxPartner, demoInboxPO, h.Inbox.Addr())

	var orders []*demoOrder
	for _, p := range []struct{ partner, po string }{{demoSFTPPartner, demoSFTPPO}, {demoInboxPartner, demoInboxPO}} {
		ref := store.OrderRef{Channel: string(canonical.ChannelEDI), Partner: p.partner, ExternalID: p.po}
		deadline := time.Now().Add(20 * time.Second)
		for {
			id, ok, err := h.Store.LookupOrderID(ctx, h.Store.ReadDB(), ref)
			if err != nil {
				return nil, err
			}
			if ok {
				orders = append(orders, &demoOrder{channel: "edi/" + strings.TrimPrefix(p.partner, "demo-"), number: p.po, orderID: id, start: start, confirm: true})
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("the 850 %s of %s did not become an order within 20 s", p.po, p.partner)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return orders, nil
}

// report shows what went back: the 997 and the ship notice on the partner's server and
// in the inbox partner's /outbound, and the polled file in the partner's archive.
func (d *demoPartners) report(ctx context.Context, out io.Writer, h *hub.Hub) (bool, error) {
	fmt.Fprintln(out, "\n8. Files back to the partners")
	c, err := d.sim.Client()
	if err != nil {
		return false, err
	}
	defer c.Close()
	inbox, err := d.inboxClient(h)
	if err != nil {
		return false, err
	}
	defer inbox.Close()
	ok := true
	for _, w := range []struct {
		who, where string
		c          *pkgsftp.Client
		dir        string
		notice     string
	}{
		{demoSFTPPartner, "its SFTP server's /inbound", c, "/inbound", "856"},
		{demoInboxPartner, "its /outbound in the hosted inbox", inbox, "/outbound", "945"},
	} {
		names, err := waitFiles(ctx, w.c, w.dir, 2, 10*time.Second)
		if err != nil {
			return false, err
		}
		if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "997_") }) ||
			!slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, w.notice+"_") }) {
			ok = false
			fmt.Fprintf(out, "   %s: %s holds %v, want a 997 and an %s\n", w.who, w.where, names, w.notice)
			continue
		}
		fmt.Fprintf(out, "   %s: %s in %s\n", w.who, strings.Join(names, ", "), w.where)
	}
	if archived, _ := c.Stat("/archive/" + demoSFTPPO + ".edi"); archived != nil {
		fmt.Fprintf(out, "   %s: %s.edi moved to /archive on its server once the hub had committed it\n", demoSFTPPartner, demoSFTPPO)
	} else {
		ok = false
		fmt.Fprintf(out, "   %s: %s.edi was not archived\n", demoSFTPPartner, demoSFTPPO)
	}
	return ok, nil
}

func (d *demoPartners) inboxClient(h *hub.Hub) (*pkgsftp.Client, error) {
	conn, err := ssh.Dial("tcp", h.Inbox.Addr(), &ssh.ClientConfig{User: demoInboxPartner, Auth: []ssh.AuthMethod{ssh.PublicKeys(d.key)},
		HostKeyCallback: ssh.FixedHostKey(h.Inbox.HostKey()), Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	c, err := pkgsftp.NewClient(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func writeRemote(c *pkgsftp.Client, name string, data []byte) error {
	f, err := c.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// waitFiles waits until dir holds want files (not counting .tmp ones being written),
// or within passes, and returns their names.
func waitFiles(ctx context.Context, c *pkgsftp.Client, dir string, want int, within time.Duration) ([]string, error) {
	deadline := time.Now().Add(within)
	for {
		fis, err := c.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, fi := range fis {
			if !strings.HasSuffix(fi.Name(), ".tmp") {
				names = append(names, fi.Name())
			}
		}
		if len(names) >= want || time.Now().After(deadline) || ctx.Err() != nil {
			return names, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}
