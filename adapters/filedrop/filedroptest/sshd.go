package filedroptest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHD is a real OpenSSH sshd serving SFTP (internal-sftp) on loopback.
type SSHD struct {
	Host    string
	Port    int
	HostKey SSHKey // the server's host key
	Client  SSHKey // the one authorized client key
	User    string // the login name: the current user
}

// StartSSHD starts `sshd -D -e -f cfg` on a free loopback port with a fresh host key
// and one authorized client key for the current user, and stops it in t.Cleanup.
// The SFTP user sees the real filesystem (no chroot: ChrootDirectory needs every path
// component root-owned and not world-writable, which /tmp is not).
func StartSSHD(t testing.TB) *SSHD {
	t.Helper()
	bin, err := exec.LookPath("sshd")
	if err != nil {
		bin = "/usr/sbin/sshd"
		if _, err := os.Stat(bin); err != nil {
			SkipOrFail(t, "OpenSSH sshd not found (apt-get install openssh-server)")
		}
	}
	if os.Geteuid() != 0 {
		SkipOrFail(t, "sshd needs root to run its privilege separation and log users in")
	}
	// sshd refuses to start without its privilege separation directory, which the
	// Debian package creates only when the service is started by systemd.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		SkipOrFail(t, "creating /run/sshd: %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	s := &SSHD{Host: "127.0.0.1", HostKey: NewSSHKey(t), Client: NewSSHKey(t), User: u.Username}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hostKeyFile := write("host_ed25519", s.HostKey.PEM)
	authKeys := write("authorized_keys", ssh.MarshalAuthorizedKey(s.Client.Signer.PublicKey()))
	s.Port = FreePort(t)
	cfg := write("sshd_config", fmt.Appendf(nil, `Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile none
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers %s
Subsystem sftp internal-sftp
ForceCommand internal-sftp
LogLevel INFO
`, s.Port, hostKeyFile, authKeys, s.User))

	if out, err := exec.Command(bin, "-t", "-f", cfg).CombinedOutput(); err != nil {
		SkipOrFail(t, "sshd -t rejected the test config: %v: %s", err, out)
	}
	var logs SyncBuffer
	cmd := exec.Command(bin, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		SkipOrFail(t, "starting sshd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("sshd log:\n%s", logs.String())
		}
	})
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-exited:
			SkipOrFail(t, "sshd exited at start: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			SkipOrFail(t, "sshd not listening on %s after 5s: %s", addr, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addr is host:port.
func (s *SSHD) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }
