// Package filedrop takes EDI files that a trading partner leaves on its own file server
// and hands each complete file, exactly once, to a [Sink] (the hub's store). It knows
// nothing of SFTP or FTP: adapters/sftp and adapters/ftp provide a [Dialer] that opens
// an [FS] session, and [Poller] does the rest.
//
// On each poll the Poller lists [Config.Dir] and, for every file matching [Config.Glob]
// that is complete:
//
//  1. streams it from the server into [Sink.Store], hashing it on the way (SHA-256);
//  2. the Sink commits it under the dedupe [Key] partner + path + size + mtime + SHA-256
//     (or reports that it already had it);
//  3. only then archives, renames or deletes it on the server ([AfterAction]).
//
// A crash or a dropped connection anywhere in between leaves the file on the server, so
// it is offered again; the Sink's dedupe turns the second offer into a duplicate.
//
// A file is complete when its size and mtime stay unchanged between two polls at least
// [Config.Settle] apart ([Stable]), or when a marker file such as NAME.done sits next to
// it ([Marker]).
//
//	p, err := filedrop.New(filedrop.Config{
//		Partner: "acme", Dir: "/outbound", Glob: "*.edi", ArchiveDir: "/outbound/archive",
//	}, dialer, store, logger)
//	if err != nil { … }
//	go p.Run(ctx)
package filedrop
