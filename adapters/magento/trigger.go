package magento

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/paklog/integration-hub/internal/httpapi"
)

// HeaderSignature carries the hex HMAC-SHA256 of a trigger's raw body.
const HeaderSignature = "X-Paklog-Signature"

// TypeUnauthorized is the problem type of a trigger whose signature or token is
// missing or wrong.
const TypeUnauthorized = "https://paklog.dev/problems/unauthorized"

// Errors of a trigger body.
var (
	// ErrTriggerBody: the body is not a JSON object.
	ErrTriggerBody = errors.New("the trigger body is not a JSON object")
	// ErrNoOrderID: the body names no order.
	ErrNoOrderID = errors.New(`the trigger names no order: send {"order_id": N}, {"entity_id": N} or {"data": {"order": {"entity_id": N}}}`)
	// ErrOrderID: an order id is not a positive integer, or two ids disagree.
	ErrOrderID = errors.New("invalid order id")
)

// errUnauthorized is the error of a missing or wrong credential; its text says what
// was expected, never a secret or what was received.
var errUnauthorized = errors.New("unauthorized")

// TriggerResponse is the body of a 202.
type TriggerResponse struct {
	Store   string `json:"store"`
	OrderID int64  `json:"order_id"`
	// Queued is true: the order is fetched by the store's poller, soon after the
	// answer.
	Queued bool `json:"queued"`
}

// ServeHTTP serves POST /webhooks/magento/{store}: it authenticates the trigger,
// reads the order it names and asks the store's poller to fetch that order at once
// (see the package documentation for the answers).
func (s *Stores) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusMethodNotAllowed,
			Detail: "Magento triggers are sent with POST"})
		return
	}
	name := r.PathValue("store")
	if name == "" {
		name = r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	}
	e, ok := s.stores[name]
	if !ok || (len(e.hmac) == 0 && len(e.bearer) == 0) {
		detail := fmt.Sprintf("no Magento store %q is configured in this hub", clip(name))
		if ok {
			detail = fmt.Sprintf("Magento store %q has no trigger credentials (trigger.hmac_secrets or trigger.bearer_tokens)", name)
		}
		s.log.Warn("magento trigger for an unknown store or one without a trigger refused", "store", clip(name), "remote", r.RemoteAddr)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeNotFound, Status: http.StatusNotFound, Detail: detail})
		return
	}
	body, ok := httpapi.ReadBody(w, r, s.maxBody)
	if !ok {
		e.log.Warn("magento trigger body refused (too large or unreadable)", "limit", s.maxBody)
		s.m.triggers.WithLabelValues(e.name, "refused").Inc()
		return
	}
	if err := e.authenticate(r.Header, body); err != nil {
		e.log.Warn("magento trigger refused", "reason", err, "remote", r.RemoteAddr)
		s.m.triggers.WithLabelValues(e.name, "unauthorized").Inc()
		if len(e.bearer) > 0 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="paklog"`)
		}
		httpapi.WriteProblem(w, httpapi.Problem{Type: TypeUnauthorized, Status: http.StatusUnauthorized, Detail: err.Error()})
		return
	}
	id, err := ParseTrigger(body)
	if err != nil {
		e.log.Info("magento trigger refused", "error", err)
		s.m.triggers.WithLabelValues(e.name, "refused").Inc()
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest, Detail: err.Error()})
		return
	}
	e.poller.Trigger(id)
	s.m.triggers.WithLabelValues(e.name, "queued").Inc()
	e.log.Debug("magento trigger queued", "entity_id", id)
	httpapi.WriteJSON(w, http.StatusAccepted, TriggerResponse{Store: e.name, OrderID: id, Queued: true})
}

// authenticate accepts the trigger when a credential it presents matches one of the
// store's: the X-Paklog-Signature MAC of the body under every secret, compared with
// hmac.Equal, or the SHA-256 of the bearer token against every token's, compared
// with subtle.ConstantTimeCompare (equal lengths, so the tokens' lengths do not show
// either). Every secret is tried, matching or not.
func (e *storeEntry) authenticate(h http.Header, body []byte) error {
	sig := strings.TrimSpace(h.Get(HeaderSignature))
	scheme, token, hasBearer := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	hasBearer = hasBearer && strings.EqualFold(scheme, "Bearer")
	var tried []string
	if len(e.hmac) > 0 && sig != "" {
		if len(sig) > 7 && strings.EqualFold(sig[:7], "sha256=") {
			sig = sig[7:]
		}
		got, err := hex.DecodeString(sig)
		ok := false
		for _, secret := range e.hmac {
			mac := hmac.New(sha256.New, secret)
			mac.Write(body)
			if hmac.Equal(got, mac.Sum(nil)) && err == nil {
				ok = true
			}
		}
		if ok {
			return nil
		}
		tried = append(tried, HeaderSignature+" does not match the body under this store's trigger secrets")
	}
	if len(e.bearer) > 0 && hasBearer {
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		ok := 0
		for _, want := range e.bearer {
			ok |= subtle.ConstantTimeCompare(sum[:], want[:])
		}
		if ok == 1 {
			return nil
		}
		tried = append(tried, "the bearer token is not one of this store's trigger tokens")
	}
	if len(tried) > 0 {
		return fmt.Errorf("%w: %s", errUnauthorized, strings.Join(tried, "; "))
	}
	var want []string
	if len(e.hmac) > 0 {
		want = append(want, HeaderSignature+" (hex HMAC-SHA256 of the body)")
	}
	if len(e.bearer) > 0 {
		want = append(want, "Authorization: Bearer <token>")
	}
	return fmt.Errorf("%w: %s is missing", errUnauthorized, strings.Join(want, " or "))
}

// ParseTrigger returns the entity_id a trigger body names: its "order_id" or
// "entity_id", or "data.order.entity_id" (Magento's event shape), each a JSON number
// or a string of digits. When the body names the order more than once the ids must
// agree. The errors wrap ErrTriggerBody, ErrNoOrderID or ErrOrderID.
func ParseTrigger(body []byte) (int64, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return 0, ErrTriggerBody
	}
	type found struct {
		path string
		raw  json.RawMessage
	}
	var ids []found
	for _, k := range []string{"order_id", "entity_id"} {
		if v, ok := top[k]; ok {
			ids = append(ids, found{k, v})
		}
	}
	if d, ok := top["data"]; ok {
		var data struct {
			Order map[string]json.RawMessage `json:"order"`
		}
		if json.Unmarshal(d, &data) == nil {
			if v, ok := data.Order["entity_id"]; ok {
				ids = append(ids, found{"data.order.entity_id", v})
			}
		}
	}
	if len(ids) == 0 {
		return 0, ErrNoOrderID
	}
	var id int64
	for i, f := range ids {
		n, ok := positiveID(f.raw)
		if !ok {
			return 0, fmt.Errorf("%w: %s is %s, not a positive integer", ErrOrderID, f.path, clip(string(f.raw)))
		}
		if i > 0 && n != id {
			return 0, fmt.Errorf("%w: %s %d and %s %d name different orders", ErrOrderID, ids[0].path, id, f.path, n)
		}
		id = n
	}
	return id, nil
}

// positiveID reads a JSON number or string of decimal digits as a positive int64.
func positiveID(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	s := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
