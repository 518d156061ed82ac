// Package sftp polls a trading partner's SFTP server for EDI files and hands each
// complete file, exactly once, to a [Sink] (the hub's store).
//
// Partners who "drop files on their server" leave them in a directory; the hub logs in
// on a schedule, lists the directory, and for each file that is complete:
//
//  1. streams it from the server into [Sink.Store], hashing it on the way (SHA-256);
//  2. the Sink commits it under the dedupe key partner + path + size + mtime + SHA-256
//     (or reports that it already had it);
//  3. only then archives, renames or deletes it on the server.
//
// A crash or a dropped connection anywhere in between leaves the file on the server, so
// it is offered again; the Sink's dedupe turns the second offer into a duplicate.
//
// A file is complete when its size and mtime stay unchanged between two polls at least
// [Config.Settle] apart ([Stable]), or when a marker file such as NAME.done sits next to
// it ([Marker]). The server's host key is always pinned ([Config.HostKey]); a different
// key refuses the connection with a [*HostKeyError] showing both fingerprints.
//
//	p, err := sftp.New(sftp.Config{
//		Partner: "acme", Host: "sftp.acme.example", User: "paklog",
//		PrivateKey: key, HostKey: "SHA256:Jx3d…",
//		Dir: "/outbound", Glob: "*.edi", ArchiveDir: "/outbound/archive",
//	}, store, logger)
//	if err != nil { … }
//	go p.Run(ctx)
package sftp
