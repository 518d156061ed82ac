package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// The hub is killed after it stored a partner's file but before it archived it on the
// partner's server (the archive directory is missing, so the file stays put while the
// hub runs), then restarted with the archive directory in place: the file is offered
// again, recognised by its dedupe key, archived, and processed exactly once.
func TestKilledBetweenStoreAndArchive(t *testing.T) {
	s := filedroptest.StartSSHD(t)
	drop := t.TempDir()
	if err := os.Mkdir(filepath.Join(drop, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	edi, err := os.ReadFile("../../fixtures/edi/ediengine__x12-850.edi")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(drop, "out", "po.edi"), edi, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := storetest.SQLiteConfig(t)
	cfg.Synchronous = "full"
	dir := filepath.Dir(cfg.SQLitePath)
	key := filepath.Join(dir, "acme_key")
	if err := os.WriteFile(key, s.Client.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	hubYAML := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(hubYAML, fmt.Appendf(nil, `partners:
  - name: acme
    sftp:
      - {host: %s, port: %d, user: %s, private_key: {file: %s}, host_key: %q,
         dir: %s/out, archive_dir: %s/archive, settle: 1ns, interval: 100ms}
`, s.Host, s.Port, s.User, key, s.HostKey.Fingerprint(), drop, drop), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PAKLOG_STORE_DRIVER=sqlite", "PAKLOG_DATA_DIR=" + dir, "PAKLOG_CONFIG=" + hubYAML}
	hub := startServe(t, env, freeAddr(t))
	st := storetest.Open(t, cfg)
	inbound := func() int {
		return storetest.Count(t, st, `SELECT COUNT(*) FROM `+st.MessagesTable(router.InboundTopic("edi")))
	}
	waitCount(t, "the file stored", inbound, 1, hub)
	if err := hub.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = hub.cmd.Wait()
	if !filedroptest.Exists(t, filepath.Join(drop, "out", "po.edi")) {
		t.Fatal("the file left the partner's directory although it could not be archived")
	}

	if err := os.Mkdir(filepath.Join(drop, "archive"), 0o755); err != nil {
		t.Fatal(err)
	}
	hub = startServe(t, env, hub.addr)
	deadline := time.Now().Add(30 * time.Second)
	for !filedroptest.Exists(t, filepath.Join(drop, "archive", "po.edi")) {
		if time.Now().After(deadline) {
			t.Fatalf("the file was not archived after the restart\n%s", hub.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	orders := func() int {
		return storetest.Count(t, st, `SELECT COUNT(*) FROM `+st.MessagesTable(router.TopicFulfilmentOrders))
	}
	waitCount(t, "the order", orders, 1, hub)
	stopServe(t, hub)
	if n := inbound(); n != 1 {
		t.Errorf("inbound.edi holds %d messages for one file, want 1", n)
	}
	if n := orders(); n != 1 {
		t.Errorf("fulfilment.orders holds %d orders for one 850, want 1", n)
	}
	if n := storetest.Count(t, st, `SELECT COUNT(*) FROM ingest WHERE partner = ?`, "acme"); n != 1 {
		t.Errorf("%d ingest records for one file, want 1", n)
	}
}

func waitCount(t *testing.T, what string, n func() int, want int, hub *child) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for n() != want {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%d, want %d)\n%s", what, n(), want, hub.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
