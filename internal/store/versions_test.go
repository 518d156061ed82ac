package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
)

// Last writer wins by the source's own clock: only a strictly newer version is taken,
// however the updates arrive, and fractions of a second compare as times (SQLite keeps
// them as text).
func TestNewerVersion(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ref := store.OrderRef{Channel: "shopify", Partner: "acme", ExternalID: "820982911946154508"}
		base := time.Date(2026, 11, 21, 12, 0, 0, 0, time.FixedZone("EST", -5*3600))
		steps := []struct {
			at   time.Time
			want bool
		}{
			{base, true},
			{base, false},                             // the same version again
			{base.Add(500 * time.Millisecond), true},  // .5
			{base.Add(250 * time.Millisecond), false}, // .25 is older than .5
			{base.Add(550 * time.Millisecond), true},  // .55 is newer than .5
			{base.Add(-time.Hour).UTC(), false},       // late webhook, other zone
			{base.Add(time.Second + time.Microsecond), true},
		}
		for i, s := range steps {
			var got bool
			err := st.InTx(ctx, func(tx *sql.Tx) error {
				var err error
				got, err = st.NewerVersion(ctx, tx, ref, s.at)
				return err
			})
			if err != nil || got != s.want {
				t.Fatalf("step %d (%s): newer = %v, %v; want %v", i, s.at.Format(time.RFC3339Nano), got, err, s.want)
			}
		}
		other := ref
		other.Partner = "globex"
		if err := st.InTx(ctx, func(tx *sql.Tx) error {
			ok, err := st.NewerVersion(ctx, tx, other, base)
			if !ok {
				t.Error("another shop's order with the same id is a different order")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}
