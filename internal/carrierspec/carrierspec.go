// Package carrierspec checks HTTP requests and responses against the carriers'
// published OpenAPI documents in fixtures/carriers/specs. The carrier clients' tests
// wrap the simulators with [Validator.Handler], so every request a client sends and
// every answer a simulator gives in a test is checked against the carrier's own
// contract.
//
// The documents are test reference data: nothing here is compiled into paklog.
package carrierspec

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Spec names a carrier API document and the path prefix its paths live under on the
// carrier's host.
type Spec struct {
	// File is relative to fixtures/carriers/specs, e.g. "ups/Shipping.yaml".
	File string
	// Base is the path prefix of the document's paths: "/api" for UPS shipping,
	// "/labels/v3" for USPS labels, "" for FedEx.
	Base string
}

// The documents the clients and simulators are checked against.
var (
	UPSOAuth     = Spec{File: "ups/OAuthClientCredentials.yaml", Base: ""}
	UPSShipping  = Spec{File: "ups/Shipping.yaml", Base: "/api"}
	FedExAuth    = Spec{File: "fedex/APIAuthorization-Resource.json", Base: ""}
	FedExShip    = Spec{File: "fedex/ship-api.json", Base: ""}
	USPSLabels   = Spec{File: "usps/domestic-labels.yaml", Base: "/labels/v3"}
	USPSPayments = Spec{File: "usps/payments.yaml", Base: "/payments/v3"}
)

// Dir is fixtures/carriers/specs in this source tree.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures", "carriers", "specs")
}

var trailingSpace = regexp.MustCompile(`[ \t]+\r?\n|\r\n`)

// Load reads and parses one document. UPS's Shipping.yaml has CRLF line endings and
// trailing TABs that strict YAML refuses: trailing whitespace is stripped first.
func Load(s Spec) (*openapi3.T, error) {
	raw, err := os.ReadFile(filepath.Join(Dir(), s.File))
	if err != nil {
		return nil, fmt.Errorf("reading carrier spec: %w", err)
	}
	raw = trailingSpace.ReplaceAll(raw, []byte("\n"))
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", s.File, err)
	}
	return doc, nil
}

const specHost = "https://carrier.spec"

// Validator checks requests and responses against a set of documents.
type Validator struct {
	routes []specRouter

	mu         sync.Mutex
	violations []string
	checked    int
}

type specRouter struct {
	spec   Spec
	router routers.Router
}

// New loads the documents.
func New(specs ...Spec) (*Validator, error) {
	v := &Validator{}
	for _, s := range specs {
		doc, err := Load(s)
		if err != nil {
			return nil, err
		}
		doc.Servers = openapi3.Servers{{URL: specHost + s.Base}}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("routing %s: %w", s.File, err)
		}
		v.routes = append(v.routes, specRouter{spec: s, router: r})
	}
	return v, nil
}

// Undocumented is returned for a request no loaded document describes.
var Undocumented = fmt.Errorf("no loaded carrier spec documents this operation")

func (v *Validator) find(method, path string) (*routers.Route, map[string]string, Spec, error) {
	for _, sr := range v.routes {
		u, _ := url.Parse(specHost + path)
		req := &http.Request{Method: method, URL: u, Host: u.Host}
		route, params, err := sr.router.FindRoute(req)
		if err == nil {
			return route, params, sr.spec, nil
		}
	}
	return nil, nil, Spec{}, fmt.Errorf("%s %s: %w", method, path, Undocumented)
}

func options() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError: true,
		// Authentication is the simulators' job: they answer 401 in the carrier's
		// own shape, which is what the clients are tested on.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	}
}

// CheckRequest validates one request (its body given separately, since reading it
// consumes it).
func (v *Validator) CheckRequest(r *http.Request, body []byte) error {
	route, params, _, err := v.find(r.Method, r.URL.Path)
	if err != nil {
		return err
	}
	in := requestInput(r, body, route, params)
	return openapi3filter.ValidateRequest(context.Background(), in)
}

func requestInput(r *http.Request, body []byte, route *routers.Route, params map[string]string) *openapi3filter.RequestValidationInput {
	u, _ := url.Parse(specHost + r.URL.RequestURI())
	cp := r.Clone(context.Background())
	cp.URL = u
	cp.Host = u.Host
	cp.Body = io.NopCloser(bytes.NewReader(body))
	cp.ContentLength = int64(len(body))
	return &openapi3filter.RequestValidationInput{Request: cp, PathParams: params, Route: route, Options: options()}
}

// CheckResponse validates a response to r.
func (v *Validator) CheckResponse(r *http.Request, reqBody []byte, status int, h http.Header, body []byte) error {
	route, params, _, err := v.find(r.Method, r.URL.Path)
	if err != nil {
		return err
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: requestInput(r, reqBody, route, params),
		Status:                 status,
		Header:                 h,
		Options:                &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// Handler wraps a simulator: every request that reaches it and every response it
// writes is validated, and what fails is recorded (see Violations). Paths listed in
// skip (exact match) and the simulators' /_sim/ control paths are passed through
// unchecked: endpoints with no published document, such as USPS's OAuth token. A
// response the simulator never finished (a hijacked connection: an injected fault)
// is not checked.
func (v *Validator) Handler(next http.Handler, skip ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_sim/") || slices.Contains(skip, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		v.record("request", r, v.CheckRequest(r, body))
		tw := &teeWriter{ResponseWriter: w}
		next.ServeHTTP(tw, r)
		if tw.hijacked {
			return
		}
		status := tw.status
		if status == 0 {
			status = http.StatusOK
		}
		v.record(fmt.Sprintf("response %d", status), r, v.CheckResponse(r, body, status, w.Header(), tw.body.Bytes()))
	})
}

// teeWriter passes a response through and keeps a copy.
type teeWriter struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (t *teeWriter) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.body.Write(p)
	return t.ResponseWriter.Write(p)
}

func (t *teeWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (t *teeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := t.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("carrierspec: the underlying ResponseWriter cannot hijack")
	}
	t.hijacked = true
	return h.Hijack()
}

func (v *Validator) record(what string, r *http.Request, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.checked++
	if err != nil {
		v.violations = append(v.violations, fmt.Sprintf("%s %s %s: %v", what, r.Method, r.URL.Path, err))
	}
}

// Violations are the failed checks so far, each naming the request.
func (v *Validator) Violations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.violations...)
}

// Checked is how many requests and responses were validated.
func (v *Validator) Checked() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.checked
}
