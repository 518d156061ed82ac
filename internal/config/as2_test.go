package config_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/internal/as2test"
	"github.com/paklog/integration-hub/internal/config"
)

// Asynchronous MDNs: mdn: async needs as2.receipt_url, async_mdn_timeout only
// applies to it; problems name file, line and field.
func TestAS2AsyncMDNConfig(t *testing.T) {
	dir := t.TempDir()
	key := as2test.RSAKey(t, 0)
	cert := as2test.SelfSigned(t, "PAKLOG", key, 1, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	crt := filepath.Join(dir, as2test.WriteFile(t, dir, "c.pem", as2test.CertPEM(cert)))
	as2test.WriteFile(t, dir, "k.pem", as2test.KeyPEM(t, key))
	base := func(receipt, mdn, timeout string) string {
		return "as2:\n" + // 1
			"  id: PAKLOG\n" + // 2
			"  keys: [{cert: " + crt + ", key: {file: " + filepath.Join(dir, "k.pem") + "}}]\n" + // 3
			receipt + // the next line, when set
			"partners:\n" +
			"  - name: acme\n" +
			"    as2:\n" +
			"      id: ACME\n" +
			"      certs: [" + crt + "]\n" +
			"      mdn: " + mdn + "\n" +
			timeout
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string // "" = valid
	}{
		{"async with a receipt URL", base("  receipt_url: https://as2.paklog.example/as2\n", "async", "      async_mdn_timeout: 10m\n"), nil},
		{"async without a receipt URL", base("", "async", ""),
			[]string{`hub.yaml:9: partners[0].as2.mdn: is "async", which needs as2.receipt_url`}},
		{"receipt URL not absolute", base("  receipt_url: /as2\n", "async", ""),
			[]string{`hub.yaml:4: as2.receipt_url: must be an absolute http or https URL`}},
		{"timeout without async", base("", "sync", "      async_mdn_timeout: 10m\n"),
			[]string{`hub.yaml:10: partners[0].as2.async_mdn_timeout: is set but mdn is "sync"`}},
		{"timeout too short", base("  receipt_url: https://as2.paklog.example/as2\n", "async", "      async_mdn_timeout: 10ms\n"),
			[]string{`hub.yaml:11: partners[0].as2.async_mdn_timeout: must be between 1s and 720h`}},
		{"async MDN awaited less than the send may take", base("  receipt_url: https://as2.paklog.example/as2\n", "async", "      async_mdn_timeout: 30s\n"),
			[]string{`hub.yaml:11: partners[0].as2.async_mdn_timeout: is 30s, shorter than the send timeout 1m0s (partners[0].as2.timeout, default 1m0s)`}},
		{"async MDN awaited less than a shorter send timeout", base("  receipt_url: https://as2.paklog.example/as2\n", "async", "      timeout: 10s\n      async_mdn_timeout: 5s\n"),
			[]string{`hub.yaml:12: partners[0].as2.async_mdn_timeout: is 5s, shorter than the send timeout 10s`}},
		{"send timeout over the default wait", base("  receipt_url: https://as2.paklog.example/as2\n", "async", "      timeout: 2h\n"),
			[]string{`hub.yaml:11: partners[0].as2.timeout: is 2h0m0s, longer than async_mdn_timeout (default 1h0m0s)`}},
		{"unknown mode", base("", "later", ""),
			[]string{`hub.yaml:9: partners[0].as2.mdn: must be "sync", "async" or "none"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse("hub.yaml", []byte(tc.yaml), noEnv)
			if err == nil {
				err = cfg.Validate()
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				if got := cfg.Partners[0].AS2.MDNWait(); got != 10*time.Minute {
					t.Errorf("MDNWait = %s", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	if got := (config.AS2Partner{}).MDNWait(); got != config.DefaultAS2AsyncMDNTimeout {
		t.Errorf("default MDNWait = %s", got)
	}
}

// as2.refused_body_max: 64KiB by default, between 1KiB and max_body.
func TestAS2RefusedBodyMax(t *testing.T) {
	if got := config.Default().AS2.RefusedBodyLimit(); got != 64<<10 {
		t.Errorf("default RefusedBodyLimit = %d, want 64KiB", got)
	}
	if got := (config.AS2{}).RefusedBodyLimit(); got != 64<<10 {
		t.Errorf("unset RefusedBodyLimit = %d, want 64KiB", got)
	}
	for _, tc := range []struct {
		yaml, want string // want "" = valid
	}{
		{"as2:\n  refused_body_max: 1MiB\n", ""},
		{"as2:\n  refused_body_max: 100\n", "hub.yaml:2: as2.refused_body_max: is 100 bytes; it must be between 1KiB and as2.max_body"},
		{"as2:\n  max_body: 1MiB\n  refused_body_max: 2MiB\n", "hub.yaml:3: as2.refused_body_max: is 2097152 bytes; it must be between 1KiB and as2.max_body (1048576 bytes)"},
	} {
		cfg, err := config.Parse("hub.yaml", []byte(tc.yaml), noEnv)
		if err == nil {
			err = cfg.Validate()
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q refused: %v", tc.yaml, err)
		case tc.want == "" && cfg.AS2.RefusedBodyLimit() != 1<<20:
			t.Errorf("%q: RefusedBodyLimit = %d", tc.yaml, cfg.AS2.RefusedBodyLimit())
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
