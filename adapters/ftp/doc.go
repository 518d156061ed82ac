// Package ftp polls a trading partner's FTP server for EDI files and hands each
// complete file, exactly once, to a filedrop.Sink (the hub's store). The polling rules
// (completeness, streaming with SHA-256, commit before archive, dedupe key, backoff)
// are package filedrop's; this package provides the FTP session: github.com/jlaffaye/ftp
// in passive mode, with explicit TLS (FTPS, AUTH TLS) by default and plain FTP only
// when [Config.Security] says [Plain].
//
// Under FTPS the server certificate is always verified: against [Config.CACert] (or the
// system roots) for [Config.ServerName], or, for a partner's self-signed certificate,
// against a pinned SHA-256 [Config.CertFingerprint]. A certificate that does not verify
// refuses the connection with a [*CertificateError] showing the fingerprint seen, and
// stops [filedrop.Poller.Run].
//
//	p, err := ftp.New(ftp.Config{
//		Host: "ftp.acme.example", User: "paklog", Password: secret, CACert: acmeCA,
//		Config: filedrop.Config{Partner: "acme", Dir: "/outbound", Glob: "*.edi", ArchiveDir: "/outbound/archive"},
//	}, store, logger)
//	if err != nil { … }
//	go p.Run(ctx)
package ftp
