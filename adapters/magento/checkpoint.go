package magento

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	magentoapi "github.com/paklog/integration-hub/connectors/magento"
	"github.com/paklog/integration-hub/internal/store"
)

// CheckpointPrefix starts the name of a store's checkpoint in the hub's store:
// "magento:<store name>".
const CheckpointPrefix = "magento:"

// StoreCheckpoints keeps each Magento store's watermark in the hub's store (table
// checkpoints), as JSON {"updated_at": RFC 3339, "entity_id": N}; pass it to New.
// Save is durable when it returns.
func StoreCheckpoints(st *store.Store) func(name string) magentoapi.Checkpoint {
	return func(name string) magentoapi.Checkpoint { return storeCheckpoint{st: st, name: CheckpointPrefix + name} }
}

type storeCheckpoint struct {
	st   *store.Store
	name string
}

type savedWatermark struct {
	UpdatedAt time.Time `json:"updated_at"`
	EntityID  int64     `json:"entity_id,omitempty"`
}

func (c storeCheckpoint) Load(ctx context.Context) (magentoapi.Watermark, error) {
	v, err := c.st.Checkpoint(ctx, c.name)
	if err != nil || v == "" {
		return magentoapi.Watermark{}, err
	}
	var w savedWatermark
	if err := json.Unmarshal([]byte(v), &w); err != nil {
		return magentoapi.Watermark{}, fmt.Errorf("reading checkpoint %s: %w", c.name, err)
	}
	return magentoapi.Watermark{UpdatedAt: w.UpdatedAt.UTC(), EntityID: w.EntityID}, nil
}

func (c storeCheckpoint) Save(ctx context.Context, w magentoapi.Watermark) error {
	b, err := json.Marshal(savedWatermark{UpdatedAt: w.UpdatedAt.UTC(), EntityID: w.EntityID})
	if err != nil {
		return fmt.Errorf("encoding checkpoint %s: %w", c.name, err)
	}
	return c.st.SaveCheckpoint(ctx, c.name, string(b))
}
