// Package sftp polls a trading partner's SFTP server for EDI files and hands each
// complete file, exactly once, to a filedrop.Sink (the hub's store).
//
// The polling rules live in package filedrop: a file is taken when complete (size and
// mtime stable for Settle, or a NAME.done marker), streamed into the Sink while hashed
// (SHA-256), and archived, renamed or deleted on the server only after the Sink
// committed it under the dedupe key partner + path + size + mtime + SHA-256. This
// package provides the SFTP session ([Dialer], [FS]) over golang.org/x/crypto/ssh and
// github.com/pkg/sftp.
//
// The server's host key is always pinned ([Config.HostKey]); a different key refuses
// the connection with a [*HostKeyError] showing both fingerprints, and stops
// [filedrop.Poller.Run].
//
//	p, err := sftp.New(sftp.Config{
//		Host: "sftp.acme.example", User: "paklog", PrivateKey: key, HostKey: "SHA256:Jx3d…",
//		Config: filedrop.Config{Partner: "acme", Dir: "/outbound", Glob: "*.edi", ArchiveDir: "/outbound/archive"},
//	}, store, logger)
//	if err != nil { … }
//	go p.Run(ctx)
package sftp
