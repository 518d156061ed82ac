package hub_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	pkgsftp "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

func read850(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/edi/ediengine__x12-850.edi")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startFileHub runs a hub configured by adjust, with short poll and retry intervals.
func startFileHub(t *testing.T, adjust func(*config.Config)) *hub.Hub {
	t.Helper()
	cfg := config.Default()
	cfg.Store.SQLite.Path = filepath.Join(t.TempDir(), "paklog.db")
	cfg.Store.SQLite.Synchronous = config.SyncNormal
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Router.PollInterval = config.Duration(10 * time.Millisecond)
	adjust(&cfg)
	h, err := hub.New(context.Background(), cfg, nil, hub.Options{
		Delivery: func(c *partners.DeliveryConfig) {
			c.Poll, c.Initial, c.Max, c.Attempts = 20*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond, 3
		},
		PartnerBreaker: &partners.BreakerSettings{Failures: 2, OpenFor: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	<-h.Router.Running()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub stopped: %v", err)
		}
	})
	return h
}

func count(t testing.TB, st *store.Store, topic string) int {
	t.Helper()
	var n int
	if err := st.ReadDB().QueryRow(`SELECT COUNT(*) FROM ` + st.MessagesTable(topic)).Scan(&n); err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return 0
		}
		t.Fatal(err)
	}
	return n
}

func eventually(t testing.TB, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sftpLogin(s *filedroptest.SSHD) config.SFTPLogin {
	return config.SFTPLogin{Host: s.Host, Port: s.Port, User: s.User, PrivateKey: config.NewSecret(string(s.Client.PEM)),
		HostKey: s.HostKey.Fingerprint()}
}

// A partner leaves an 850 on its OpenSSH server: `paklog serve` polls it, the order
// reaches fulfilment.orders, the file moves to the archive only then, and the 997
// goes back onto the partner's server as 997_<ISA13>.edi — written as .tmp and renamed.
func TestSFTPDropToOrderAnd997Back(t *testing.T) {
	s := filedroptest.StartSSHD(t)
	root := t.TempDir()
	for _, d := range []string{"out", "archive", "in"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h := startFileHub(t, func(c *config.Config) {
		c.Partners = []config.Partner{{Name: "acme",
			SFTP: []config.SFTPPoll{{SFTPLogin: sftpLogin(s), FileDrop: config.FileDrop{Dir: filepath.Join(root, "out"), Glob: "*.edi",
				Settle: 1, ArchiveDir: filepath.Join(root, "archive"), Interval: config.Duration(100 * time.Millisecond)}}},
			Outbound: config.Outbound{Via: config.ViaSFTP, Dir: filepath.Join(root, "in"), SFTP: sftpLogin(s)},
		}}
	})
	if err := os.WriteFile(filepath.Join(root, "out", "po-1001.edi"), read850(t), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the order on fulfilment.orders", 20*time.Second, func() bool { return count(t, h.Store, router.TopicFulfilmentOrders) == 1 })
	eventually(t, "the file archived", 10*time.Second, func() bool { return filedroptest.Exists(t, filepath.Join(root, "archive", "po-1001.edi")) })
	// The file appears as .tmp first and is renamed once its size checks out: wait for
	// the delivery to be recorded as done, then look at the directory.
	eventually(t, "the 997 delivered", 20*time.Second, func() bool {
		ds, err := h.Delivery.Deliveries(context.Background(), "acme")
		return err == nil && len(ds) == 1 && ds[0].State == partners.StateDelivered
	})
	acks, _ := filepath.Glob(filepath.Join(root, "in", "*"))
	if len(acks) != 1 {
		t.Fatalf("partner's inbound directory holds %v, want one 997 and no .tmp left", acks)
	}
	name := filepath.Base(acks[0])
	if !strings.HasPrefix(name, "997_") || !strings.HasSuffix(name, ".edi") {
		t.Errorf("ack delivered as %q, want 997_<control number>.edi", name)
	}
	body, _ := os.ReadFile(acks[0])
	if !strings.Contains(string(body), "ST*997*") {
		t.Errorf("delivered file is not a 997:\n%s", body)
	}
	ds, err := h.Delivery.Deliveries(context.Background(), "acme")
	if err != nil || len(ds) != 1 || ds[0].State != partners.StateDelivered || ds[0].RemotePath != filepath.Join(root, "in", name) {
		t.Errorf("deliveries = %+v, %v", ds, err)
	}
	ready := readyz(t, h)
	if got := ready["partner acme sftp[0]"]; !strings.HasPrefix(got, "ok") {
		t.Errorf("/readyz partner detail = %q", got)
	}
	if got := ready["partner acme outbound"]; !strings.HasPrefix(got, "ok") {
		t.Errorf("/readyz outbound detail = %q", got)
	}
}

func readyz(t testing.TB, h *hub.Hub) map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + h.Server.Addr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Ready  bool              `json:"ready"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if !body.Ready || resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d %+v: a partner endpoint must not make the hub unready", resp.StatusCode, body)
	}
	return body.Checks
}

// A partner uploads an 850 to the hosted inbox with its key: the upload is committed
// before its close returns, becomes an order, and the 997 waits for the partner in
// its /outbound.
func TestInboxUploadToOrderAnd997InOutbound(t *testing.T) {
	key := filedroptest.NewSSHKey(t)
	port := filedroptest.FreePort(t)
	h := startFileHub(t, func(c *config.Config) {
		c.SFTPInbox.Addr = "127.0.0.1:" + strconv.Itoa(port)
		c.Partners = []config.Partner{{Name: "globex", Inbox: config.Inbox{AuthorizedKeys: []string{key.AuthorizedKey()}},
			Outbound: config.Outbound{Via: config.ViaInbox}}}
	})
	client := inboxClient(t, h, port, key)
	w, err := client.Create("/inbound/po-2002.edi")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(read850(t)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, h.Store, router.InboundTopic("edi")); n != 1 {
		t.Fatalf("after the upload's close returned, inbound.edi holds %d messages, want 1", n)
	}
	eventually(t, "the order", 20*time.Second, func() bool { return count(t, h.Store, router.TopicFulfilmentOrders) == 1 })
	var names []string
	eventually(t, "the 997 in /outbound", 20*time.Second, func() bool {
		fis, err := client.ReadDir("/outbound")
		if err != nil {
			t.Fatal(err)
		}
		names = names[:0]
		for _, fi := range fis {
			names = append(names, fi.Name())
		}
		return len(names) == 1
	})
	f, err := client.Open("/outbound/" + names[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	body, _ := io.ReadAll(f)
	if !strings.HasPrefix(names[0], "997_") || !strings.Contains(string(body), "ST*997*") {
		t.Errorf("outbound file %s:\n%s", names[0], body)
	}
}

func inboxClient(t *testing.T, h *hub.Hub, port int, key filedroptest.SSHKey) *pkgsftp.Client {
	t.Helper()
	conn, err := ssh.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &ssh.ClientConfig{
		User: "globex", Auth: []ssh.AuthMethod{ssh.PublicKeys(key.Signer)},
		HostKeyCallback: ssh.FixedHostKey(h.Inbox.HostKey()), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := pkgsftp.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	return c
}

// One partner's dead server: its breaker opens, /readyz shows it failing (the hub
// stays ready), metrics say it is down — and another partner's drop is polled all the
// while. A delivery to a directory that does not exist is parked in the DLQ at once,
// with the reason.
func TestDeadPartnerServerDoesNotStopOthers(t *testing.T) {
	s := filedroptest.StartSSHD(t)
	root := t.TempDir()
	for _, d := range []string{"out", "archive"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dead := sftpLogin(s)
	dead.Port = filedroptest.FreePort(t)
	h := startFileHub(t, func(c *config.Config) {
		c.Partners = []config.Partner{
			{Name: "dead", SFTP: []config.SFTPPoll{{SFTPLogin: dead, FileDrop: config.FileDrop{Dir: "/nowhere", After: "delete",
				Interval: config.Duration(50 * time.Millisecond)}}}},
			{Name: "alive", SFTP: []config.SFTPPoll{{SFTPLogin: sftpLogin(s), FileDrop: config.FileDrop{Dir: filepath.Join(root, "out"),
				Settle: 1, ArchiveDir: filepath.Join(root, "archive"), Interval: config.Duration(100 * time.Millisecond)}}},
				Outbound: config.Outbound{Via: config.ViaSFTP, Dir: filepath.Join(root, "missing"), SFTP: sftpLogin(s)}},
		}
	})
	if err := os.WriteFile(filepath.Join(root, "out", "po.edi"), read850(t), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the live partner's order", 20*time.Second, func() bool { return count(t, h.Store, router.TopicFulfilmentOrders) == 1 })
	eventually(t, "the dead endpoint on /readyz", 10*time.Second, func() bool {
		return strings.HasPrefix(readyz(t, h)["partner dead sftp[0]"], "failing since")
	})
	if got := readyz(t, h)["partner dead sftp[0]"]; !strings.Contains(got, "circuit breaker") && !strings.Contains(got, "connection refused") {
		t.Errorf("dead endpoint detail = %q", got)
	}
	metrics := scrape(t, h)
	for _, want := range []string{`paklog_partner_endpoint_up{endpoint="sftp[0]",partner="dead"} 0`, `paklog_partner_endpoint_up{endpoint="sftp[0]",partner="alive"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	var parked dlq.Entry
	eventually(t, "the 997 parked", 20*time.Second, func() bool {
		es, err := h.DLQ.List(context.Background(), dlq.Filter{Status: dlq.StatusOpen})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Handler == partners.HandlerAcks && strings.Contains(e.Reason, "missing") {
				parked = e
				return true
			}
		}
		return false
	})
	ds, _ := h.Delivery.Deliveries(context.Background(), "alive")
	if len(ds) != 1 || ds[0].State != partners.StateParked || ds[0].Attempts != 1 {
		t.Errorf("a permanent failure is not retried: %+v", ds)
	}

	// Once the directory exists, a replay from the DLQ puts the same file, once.
	if err := os.Mkdir(filepath.Join(root, "missing"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := h.DLQ.Replay(context.Background(), parked.ID, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replayed 997 delivered", 20*time.Second, func() bool {
		ds, _ = h.Delivery.Deliveries(context.Background(), "alive")
		return len(ds) == 1 && ds[0].State == partners.StateDelivered
	})
	if got, _ := filepath.Glob(filepath.Join(root, "missing", "*")); len(got) != 1 || filepath.Base(got[0]) != ds[0].Name {
		t.Errorf("after the replay the partner's directory holds %v, want %s", got, ds[0].Name)
	}
}

func scrape(t testing.TB, h *hub.Hub) string {
	t.Helper()
	resp, err := http.Get("http://" + h.Server.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
