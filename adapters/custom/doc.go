// Package custom is the adapter for shop platforms the hub has no adapter of
// its own for: POST /webhooks/custom/{channel} takes the platform's order
// webhook as it is, checks it is signed, maps it to a paklog.order.v1 order
// with a jq program from the configuration, and answers 202 once the raw body
// and the order are durably committed to inbound.custom.
//
// # Configuration
//
// Each channel has a name (the {channel} of the URL and source.partner of its
// orders), how its deliveries authenticate, a jq mapping, where the
// idempotency key comes from and, optionally, a release expression:
//
//	channels:
//	  - name: acme-woo
//	    auth:
//	      hmac:
//	        header: X-WC-Webhook-Signature
//	        algorithm: sha256     # sha256 (default), sha1, sha512
//	        encoding: base64      # hex (default), base64
//	        prefix: ""            # e.g. "sha256=" for GitHub-style headers
//	        secrets: [new-secret, old-secret]   # two during a rotation
//	    idempotency:
//	      key: .id                # a jq expression (the default), or
//	      # header: X-Event-Id    # a request header
//	    release: .status == "processing"
//	    max_body_bytes: 1048576
//	    timeout: 1s
//	    mapping: |
//	      .currency as $cur
//	      | {order_number: .number,
//	         source: {external_id: (.id | tostring)},
//	         ship_to: {name: "\(.shipping.first_name) \(.shipping.last_name)",
//	                   address1: .shipping.address_1, city: .shipping.city,
//	                   postal_code: .shipping.postcode, country: .shipping.country},
//	         lines: [.line_items[] | {line_number: (.id | tostring), sku: .sku,
//	                 quantity: .quantity,
//	                 unit_price: {amount: (.price | tostring), currency: $cur}}]}
//	  - name: kiosk
//	    auth:
//	      bearer:
//	        tokens: [a-long-random-token-0123456789]
//	    idempotency:
//	      header: X-Event-Id
//	    mapping: '{order_number: .ref, ...}'
//
// Secrets and tokens are plain strings here: the hub's configuration resolves
// its secret references before it builds a Config. They are never logged.
// The jq programs are compiled when the configuration is validated; a syntax
// error is reported with the channel, the field and the line and column in
// the program. Programs run without access to the environment ($ENV, env).
//
// # What the mapping produces
//
// The mapping's one output must be an object shaped like a paklog.order.v1
// order (see package canonical). The hub fills in, whatever the mapping says:
// order_id (the stable id, assigned at commit), source.channel ("custom"),
// source.partner (the channel's name) and source.received_at; schema when it
// is missing. The mapping may set source.external_id (the order's id on the
// platform; default: order_number) and source.document (default "webhook").
// The order is then validated; every field that breaks the schema is
// reported with what the mapping produced and the part of the program that
// produced it:
//
//	mapping for channel acme-woo: field lines[0].sku must not be empty; the
//	mapping sets it with `.sku`, which produced ""
//
// A runtime error names the innermost part of the program that fails on the
// delivery, found by running the program's parts separately:
//
//	mapping for channel acme-woo: cannot iterate over: null; it failed in
//	`.line_items[]`, which computes lines[] ...
//
// # Answers
//
//	202  accepted (again: "duplicate": true, the first delivery's result)
//	200  {"accepted": false}: the release expression is false; nothing stored
//	400  the body is not JSON (the byte offset, line and column are given),
//	     or the idempotency header is missing
//	401  missing or wrong signature or token; nothing stored
//	404  no such channel
//	409  the key or the order was accepted before with another body
//	413  the body is over max_body_bytes
//	422  the mapping failed or its order is not valid (problem+json naming
//	     the program, the fields and the expressions)
//	503  the intake could not commit; deliver again
//
// # Trying a mapping
//
// MapTest runs a channel's programs on a payload file without a server, for
// `paklog map test --channel NAME payload.json`: Trial.String is what to
// print and Trial.OK the exit status.
//
// # Example
//
//	hooks, err := custom.New(custom.Config{Channels: channels}, in, log)
//	if err != nil {
//		return err
//	}
//	mux.Handle("POST /webhooks/custom/{channel}", hooks)
package custom
