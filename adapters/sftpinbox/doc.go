// Package sftpinbox is the hub's hosted SFTP inbox: trading partners who push files log
// in with their own SSH key and drop EDI into /inbound; the hub leaves 997s, 855s, 856s
// for them in /outbound.
//
// Each partner sees only its own virtual tree, kept on disk under
// Config.Root/<partner>:
//
//	/inbound    upload here (put); a file is committed when the client closes it
//	/outbound   download here (get); the hub places files with [Server.Put]
//	/archive    the partner's stored uploads (with After = archive), read-only
//
// Login is by public key only: the key identifies the partner (the SSH user name is
// not checked), and an unknown key is refused and logged by fingerprint. Paths are
// cleaned and confined to the partner's directory (an [os.Root]); "..", paths
// outside the tree, links, writes outside /inbound, deletes outside /inbound, renames,
// directories and files over Config.MaxFileSize are refused with
// SSH_FX_PERMISSION_DENIED (a [*RefusedError]) and logged with the partner's name.
//
// An upload streams to a private spool file (never held in memory). When the client
// closes it, the upload is handed to the [filedrop.Sink] as
//
//	filedrop.File{Partner: "acme", Path: "/inbound/850_0001.edi", Size: n, ModTime: close time}
//
// hashed on the way (filedrop.Hash), so the Sink gets exactly the contract a polled
// partner server gives it: a reader that hashes while streaming, and File.Key and
// File.SHA256 that work once the reader returned io.EOF. The client's close returns
// only after Store returned: success means committed; a Store error fails the close
// (the client reports the upload failed, [ErrNotStored]) and the upload is discarded.
// Then the upload moves to /archive, or is removed (Config.After). An upload whose
// connection drops before the close is discarded and never stored.
//
//	srv, err := sftpinbox.New(sftpinbox.Config{
//		DataDir: "/var/lib/paklog", Root: "/var/lib/paklog/inbox",
//		Partners: []sftpinbox.Partner{{Name: "acme", AuthorizedKeys: []string{"ssh-ed25519 AAAA… acme"}}},
//	}, store, logger)
//	if err != nil { … }
//	go srv.Serve(ctx) // 127.0.0.1:2222 until ctx ends
//	err = srv.Put("acme", "997_0001.edi", ack)
package sftpinbox
