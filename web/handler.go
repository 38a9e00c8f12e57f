package web

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"time"
)

//go:embed page.html
var page []byte

// Defaults of Options.
const (
	DefaultInterval     = time.Second
	DefaultTimeout      = 3 * time.Second
	DefaultMaxClients   = 16
	DefaultClientBuffer = 4
	// maxActionBytes bounds a POST /action body: a pid and a short message.
	maxActionBytes = 64 << 10
	// writeTimeout bounds one event's write to a viewer, so that a viewer
	// that stopped reading frees its goroutine.
	writeTimeout = 10 * time.Second
)

// Options configures a Handler. Zero values take the defaults.
type Options struct {
	Interval     time.Duration // between snapshots pushed to viewers
	Timeout      time.Duration // bounds each Source call
	MaxClients   int           // viewers of /events at once; more get 503
	ClientBuffer int           // snapshots queued per viewer; a viewer this far behind is dropped
	// Token, if set, must come with every request: ?token=T in the URL
	// (the page passes it on) or "Authorization: Bearer T".
	Token string
	// LoopbackHosts, set by Start for a view without a token, answers only
	// requests addressed to 127.0.0.1, localhost or [::1]: a site whose
	// name an attacker points at 127.0.0.1 (DNS rebinding) would otherwise
	// reach the page as its own origin.
	LoopbackHosts bool
}

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxClients <= 0 {
		o.MaxClients = DefaultMaxClients
	}
	if o.ClientBuffer <= 0 {
		o.ClientBuffer = DefaultClientBuffer
	}
	return o
}

// Handler serves the view. One goroutine, started by NewHandler and
// stopped by Close, takes a snapshot every Interval while anyone watches
// and offers it to every viewer without waiting: a viewer whose buffer is
// full is dropped, so a slow viewer never holds up the others or the
// node. Safe for concurrent use.
type Handler struct {
	src  Source
	o    Options
	mux  *http.ServeMux
	ctx  context.Context // ends with Close: the loop and every stream stop
	stop context.CancelFunc
	done chan struct{} // closed when the loop has returned
	// kick asks the loop for a snapshot now: a new viewer should not wait
	// an Interval for its first one.
	kick chan struct{}

	mu      sync.Mutex
	clients map[*client]struct{} // guarded by mu
	latest  []byte               // guarded by mu: the last snapshot, as JSON
	dropped int                  // guarded by mu: viewers dropped for being slow
}

// client is one /events viewer.
type client struct {
	ch   chan []byte   // snapshots to write; the loop never blocks on it
	gone chan struct{} // closed when the loop drops the viewer
}

// NewHandler returns a Handler over src; Close stops it.
func NewHandler(src Source, o Options) *Handler {
	h := &Handler{src: src, o: o.withDefaults(), mux: http.NewServeMux(),
		clients: make(map[*client]struct{}), done: make(chan struct{}), kick: make(chan struct{}, 1)}
	h.ctx, h.stop = context.WithCancel(context.Background())
	h.mux.HandleFunc("GET /{$}", h.servePage)
	h.mux.HandleFunc("GET /events", h.serveEvents)
	h.mux.HandleFunc("GET /snapshot", h.serveSnapshot)
	h.mux.HandleFunc("POST /action", h.serveAction)
	go h.loop()
	return h
}

// Close stops the snapshot loop and ends every stream; it returns once
// the loop has returned. Idempotent.
func (h *Handler) Close() {
	h.stop()
	<-h.done
}

// Stats reports the viewers connected now and those dropped so far for
// not keeping up.
func (h *Handler) Stats() (clients, dropped int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients), h.dropped
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		http.Error(w, "web: a token is needed: open the page as /?token=TOKEN", http.StatusUnauthorized)
		return
	}
	if h.o.LoopbackHosts && !loopbackHost(r.Host) {
		http.Error(w, fmt.Sprintf("web: this view answers only requests to 127.0.0.1, localhost or [::1], not %q", r.Host), http.StatusForbidden)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(page)
}

// loop pushes a snapshot to the viewers every Interval while there are
// any.
func (h *Handler) loop() {
	defer close(h.done)
	t := time.NewTicker(h.o.Interval)
	defer t.Stop()
	for {
		if n, _ := h.Stats(); n > 0 {
			if b, err := h.snapshot(); err == nil {
				h.publish(b)
			} else {
				h.publish(errorEvent(err))
			}
		}
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		case <-h.kick:
		}
	}
}

// snapshot asks the Source for a snapshot, as JSON.
func (h *Handler) snapshot() ([]byte, error) {
	ctx, cancel := context.WithTimeout(h.ctx, h.o.Timeout)
	defer cancel()
	s, err := h.src.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

func errorEvent(err error) []byte {
	b, _ := json.Marshal(map[string]string{"error": err.Error()})
	return b
}

// publish offers b to every viewer, dropping those with a full buffer.
func (h *Handler) publish(b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest = b
	for c := range h.clients {
		select {
		case c.ch <- b:
		default:
			delete(h.clients, c)
			close(c.gone)
			h.dropped++
		}
	}
}

// subscribe adds a viewer, or returns nil if there are MaxClients.
func (h *Handler) subscribe() (*client, []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) >= h.o.MaxClients {
		return nil, nil
	}
	c := &client{ch: make(chan []byte, h.o.ClientBuffer), gone: make(chan struct{})}
	h.clients[c] = struct{}{}
	if len(h.clients) == 1 { // the last snapshot may be old: nobody watched
		h.latest = nil
		select {
		case h.kick <- struct{}{}:
		default: // one is asked already
		}
	}
	return c, h.latest
}

func (h *Handler) unsubscribe(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	c, first := h.subscribe()
	if c == nil {
		http.Error(w, fmt.Sprintf("web: %d viewers already; close one and try again", h.o.MaxClients), http.StatusServiceUnavailable)
		return
	}
	defer h.unsubscribe(c)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if first != nil && !write(first) {
		return
	} else if first == nil && rc.Flush() != nil {
		return
	}
	for {
		select {
		case b := <-c.ch:
			if !write(b) {
				return
			}
		case <-c.gone: // dropped for being slow: the page reconnects
			return
		case <-r.Context().Done():
			return
		case <-h.ctx.Done():
			return
		}
	}
}

func (h *Handler) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	b, err := h.snapshot()
	if err != nil {
		http.Error(w, "web: snapshot: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// pidShape is a printed pid: <node@host.12.0>. The Source parses it; this
// only turns away what cannot be one, with a clearer message.
var pidShape = regexp.MustCompile(`^<[^<>\s]+@[^<>\s]+\.\d+\.\d+>$`)

func (h *Handler) serveAction(w http.ResponseWriter, r *http.Request) {
	// A page of another site can post a form here, but not JSON without
	// the browser asking first (CORS), which this server never allows.
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		http.Error(w, "web: an action is JSON: Content-Type: application/json", http.StatusUnsupportedMediaType)
		return
	}
	var a Action
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxActionBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		http.Error(w, "web: an action is {\"kind\": \"send\"|\"kill\"|\"trace\", \"pid\": \"<node@host.1.0>\", \"message\": \"...\"}: "+err.Error(), http.StatusBadRequest)
		return
	}
	if msg := checkAction(a); msg != "" {
		http.Error(w, "web: "+msg, http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.o.Timeout)
	defer cancel()
	if err := h.src.Act(ctx, a); err != nil {
		code := http.StatusBadGateway
		if errors.Is(err, ErrBadAction) {
			code = http.StatusBadRequest
		}
		http.Error(w, "web: "+a.Kind+" "+a.Pid+": "+err.Error(), code)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkAction says what is wrong with a, or "".
func checkAction(a Action) string {
	switch a.Kind {
	case ActSend, ActKill, ActTrace:
	case "":
		return `the action has no kind: want "send", "kill" or "trace"`
	default:
		return fmt.Sprintf("unknown action %q: want \"send\", \"kill\" or \"trace\"", a.Kind)
	}
	if !pidShape.MatchString(a.Pid) {
		return fmt.Sprintf("%q is not a pid: want one as printed, <node@host.12.0>", a.Pid)
	}
	if a.Kind == ActSend && a.Message == "" {
		return "send needs a message"
	}
	return ""
}
