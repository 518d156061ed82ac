package magento_test

import (
	"errors"
	"testing"

	"github.com/paklog/integration-hub/adapters/magento"
)

func TestParseTrigger(t *testing.T) {
	tests := []struct {
		body string
		id   int64
		err  error
	}{
		{`{"order_id": 1042}`, 1042, nil},
		{`{"entity_id": "1042"}`, 1042, nil},
		{`{"data": {"order": {"entity_id": 1042, "increment_id": "000001042"}}}`, 1042, nil},
		{`{"order_id": 7, "entity_id": 7, "data": {"order": {"entity_id": "7"}}}`, 7, nil},
		{`{"entity_id": 9223372036854775807}`, 9223372036854775807, nil},
		{`{"data": "sales_order_save_after", "order_id": 3}`, 3, nil},
		{`[1042]`, 0, magento.ErrTriggerBody},
		{`null`, 0, magento.ErrTriggerBody},
		{`{}`, 0, magento.ErrNoOrderID},
		{`{"data": {"order": {}}}`, 0, magento.ErrNoOrderID},
		{`{"order_id": 0}`, 0, magento.ErrOrderID},
		{`{"order_id": 1.5}`, 0, magento.ErrOrderID},
		{`{"order_id": 1e3}`, 0, magento.ErrOrderID},
		{`{"order_id": "+5"}`, 0, magento.ErrOrderID},
		{`{"order_id": 9223372036854775808}`, 0, magento.ErrOrderID},
		{`{"order_id": null}`, 0, magento.ErrOrderID},
		{`{"order_id": 1, "entity_id": 2}`, 0, magento.ErrOrderID},
	}
	for _, tt := range tests {
		id, err := magento.ParseTrigger([]byte(tt.body))
		if id != tt.id || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("ParseTrigger(%s) = %d, %v; want %d, %v", tt.body, id, err, tt.id, tt.err)
		}
	}
}

func FuzzParseTrigger(f *testing.F) {
	for _, s := range []string{`{"order_id": 1}`, `{"entity_id": "2"}`, `{"data":{"order":{"entity_id":3}}}`, `{"order_id": -1}`, `x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := magento.ParseTrigger(body)
		if (err == nil) != (id > 0) {
			t.Fatalf("ParseTrigger(%q) = %d, %v", body, id, err)
		}
		if err != nil && !errors.Is(err, magento.ErrTriggerBody) && !errors.Is(err, magento.ErrNoOrderID) && !errors.Is(err, magento.ErrOrderID) {
			t.Fatalf("ParseTrigger(%q): unclassified error %v", body, err)
		}
	})
}
