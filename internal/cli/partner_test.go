package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
)

// partnerConfig writes a hub.yaml with partner acme polling dir on s, archiving to
// archive, and delivering to in; the key is read from a file, the host key pinned.
func partnerConfig(t *testing.T, s *filedroptest.SSHD, hostKey, dir string) string {
	t.Helper()
	cfg, _ := hubConfig(t)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writeFile(t, filepath.Dir(cfg), "acme_key", string(s.Client.PEM))
	login := fmt.Sprintf("host: %s, port: %d, user: %s, private_key: {file: %s}, host_key: %q", s.Host, s.Port, s.User, keyFile, hostKey)
	return writeFile(t, filepath.Dir(cfg), "hub.yaml", string(b)+fmt.Sprintf(`partners:
  - name: acme
    sftp:
      - {%s, dir: %s/out, archive_dir: %s/archive}
    outbound: {via: sftp, dir: %s/in, sftp: {%s}}
`, login, dir, dir, dir, login))
}

// paklog partner test: against a real OpenSSH server every step passes and the probe
// files are gone afterwards; with a changed host key the connect step fails, showing
// the fingerprint the server offered, and the command exits 1.
func TestPartnerTest(t *testing.T) {
	cleanEnv(t)
	s := filedroptest.StartSSHD(t)
	dir := t.TempDir()
	for _, d := range []string{"out", "archive", "in"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := paklog(t, "partner", "test", "acme", "--config", partnerConfig(t, s, s.HostKey.Fingerprint(), dir))
	if code != 0 || strings.Count(out, "PASS") != 6 || !strings.Contains(out, "All steps passed.") {
		t.Errorf("partner test: exit %d\n%s%s", code, out, errOut)
	}
	for _, d := range []string{"archive", "in"} {
		if left, _ := filepath.Glob(filepath.Join(dir, d, ".paklog-probe-*")); len(left) > 0 {
			t.Errorf("probe left behind: %v", left)
		}
	}

	code, out, _ = paklog(t, "partner", "test", "acme", "--config", partnerConfig(t, s, filedroptest.NewSSHKey(t).Fingerprint(), dir))
	if code != 1 || !strings.Contains(out, "FAIL  connect") || !strings.Contains(out, s.HostKey.Fingerprint()) || !strings.Contains(out, "update host_key") {
		t.Errorf("changed host key: exit %d\n%s", code, out)
	}

	code, _, errOut = paklog(t, "partner", "test", "nobody", "--config", partnerConfig(t, s, s.HostKey.Fingerprint(), dir))
	if code == 0 || !strings.Contains(errOut, "configured: acme") {
		t.Errorf("unknown partner: exit %d, %s", code, errOut)
	}
}
