package router

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/ThreeDotsLabs/watermill/message"
)

// MetaPayloadFile names the spooled file holding an inbound message's payload when
// the file was too large to travel inside the message (intake.AcceptFile): the
// message itself is then empty.
const MetaPayloadFile = "payload_file"

// PayloadReader streams an inbound message's payload: its body, or the spooled file
// it names. The caller closes it.
func PayloadReader(msg *message.Message) (io.ReadCloser, error) {
	if path := msg.Metadata.Get(MetaPayloadFile); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("opening the spooled payload of message %s: %w", msg.UUID, err)
		}
		return f, nil
	}
	return io.NopCloser(bytes.NewReader(msg.Payload)), nil
}
