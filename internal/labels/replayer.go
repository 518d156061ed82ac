package labels

import (
	"context"

	"github.com/paklog/integration-hub/dlq"
)

// ConsoleReplayer replays through the DLQ console, as an operator would.
func ConsoleReplayer(c *dlq.Console) Replayer { return consoleReplayer{c} }

type consoleReplayer struct{ c *dlq.Console }

func (r consoleReplayer) Parked(ctx context.Context, handler string) ([]ParkedEntry, error) {
	entries, err := r.c.List(ctx, dlq.Filter{Status: dlq.StatusOpen, Handler: handler, Limit: dlq.MaxList})
	if err != nil {
		return nil, err
	}
	out := make([]ParkedEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, ParkedEntry{ID: e.ID, MessageUUID: e.MessageUUID, Class: e.ErrorClass, Metadata: e.Metadata,
			LastFailedAt: e.LastFailedAt, TimesFailed: e.TimesFailed})
	}
	return out, nil
}

func (r consoleReplayer) Replay(ctx context.Context, id int64) error {
	_, err := r.c.Replay(ctx, id, false)
	return err
}
