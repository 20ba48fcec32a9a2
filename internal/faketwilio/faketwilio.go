// Package faketwilio is a fake of Twilio's Programmable Messaging REST API
// for tests: POST /2010-04-01/Accounts/{AccountSid}/Messages.json with the
// form fields To, From, MessagingServiceSid, Body and StatusCallback.
//
// It records every message it accepts, answers with JSON shaped like
// Twilio's (a 34-character "SM..." sid, status "queued", or "accepted" for a
// Messaging Service without From), validates requests the way Twilio does
// (21604 To required, 21602 Body required, 21603 From required, 21211 invalid
// To, 20003 on missing or wrong credentials) and can be told to answer the
// next N requests with a given HTTP status and Twilio error JSON, or to hang.
//
//	srv := faketwilio.New()
//	defer srv.Close()
//	srv.FailNext(1, 500, 20500, "Internal Server Error")
//	// point the client at srv.URL() ...
//
// To run it next to a real binary, use Serve(addr); another process can then
// drive it over HTTP:
//
//	GET  /_fake/messages   recorded messages, JSON array
//	GET  /_fake/requests   {"requests": N}
//	POST /_fake/faults     {"n":2,"status":500,"code":20500,"message":"...","hang":"5s","raw_body":"","to":""}
//	                       ("to": only requests for that number)
//	POST /_fake/outage     {"status":503,"code":0,"hang":""}: every request, until ended
//	DELETE /_fake/outage   end the outage
//	GET  /_fake/attempts?to=+15551234567   {"attempts": N}, faulted or not
//	POST /_fake/reset      forget messages and faults
package faketwilio

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Message is one message the fake accepted.
type Message struct {
	SID                 string     `json:"sid"`
	AccountSID          string     `json:"account_sid"` // from the URL path
	To                  string     `json:"to"`
	From                string     `json:"from"`
	MessagingServiceSID string     `json:"messaging_service_sid"`
	Body                string     `json:"body"`
	StatusCallback      string     `json:"status_callback"`
	Username            string     `json:"username"` // basic auth user (Account SID or API key SID)
	Password            string     `json:"-"`        // basic auth password, not exported over HTTP
	Form                url.Values `json:"form"`     // every form field as received
	Received            time.Time  `json:"received"`
}

// Fault is an answer the fake gives instead of its normal one.
type Fault struct {
	Status  int           `json:"status"`   // HTTP status, e.g. 400, 429, 500
	Code    int           `json:"code"`     // Twilio error code, e.g. 21211, 20429, 20500
	Message string        `json:"message"`  // error message; a default is used when empty
	Hang    time.Duration `json:"-"`        // sleep this long first (or until the client gives up or the server closes)
	RawBody string        `json:"raw_body"` // if set, answer this body (text/html) instead of Twilio error JSON
}

// Server is a running fake.
type Server struct {
	ts       *httptest.Server
	done     chan struct{}
	closeOne sync.Once

	mu       sync.Mutex
	msgs     []Message
	faults   []Fault
	toFaults map[string][]Fault // by To number, ahead of faults
	outage   *Fault             // after both queues, until EndOutage
	attempts map[string]int     // requests by To number
	requests int
	conns    int
	user     string
	pass     string
}

// New starts a fake on a random local port.
func New() *Server {
	s := newServer()
	s.ts = httptest.NewUnstartedServer(s.Handler())
	s.ts.Config.ConnState = s.connState
	s.ts.Start()
	return s
}

// Serve starts a fake listening on addr (e.g. "127.0.0.1:8099"), for running
// it next to a real binary.
func Serve(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("faketwilio: listen: %w", err)
	}
	s := newServer()
	s.ts = httptest.NewUnstartedServer(s.Handler())
	_ = s.ts.Listener.Close()
	s.ts.Listener = ln
	s.ts.Config.ConnState = s.connState
	s.ts.Start()
	return s, nil
}

func newServer() *Server { return &Server{done: make(chan struct{})} }

// URL is the base URL to use as the API URL, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.ts.URL }

// Close wakes hanging requests and shuts the server down, waiting for
// outstanding requests. Calling it again is harmless.
func (s *Server) Close() {
	s.closeOne.Do(func() {
		close(s.done)
		s.ts.CloseClientConnections()
		s.ts.Close()
	})
}

// RequireAuth makes the fake answer 401 (code 20003) unless the request's
// basic auth is exactly username and password. By default any non-empty
// credentials are accepted.
func (s *Server) RequireAuth(username, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.pass = username, password
}

// Messages returns a copy of the accepted messages, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Requests returns how many Messages.json requests arrived, faulted or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Connections returns how many TCP connections clients opened so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *Server) connState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
	}
}

// Reset forgets recorded messages, pending faults and the request count.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs, s.faults, s.requests = nil, nil, 0
	s.toFaults, s.outage, s.attempts = nil, nil, nil
}

// InjectTo queues f for the next n requests whose To is the given number,
// ahead of the faults queued with Inject: it hits that recipient whichever
// of several concurrent clients sends to it.
func (s *Server) InjectTo(to string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.toFaults == nil {
		s.toFaults = make(map[string][]Fault)
	}
	for range n {
		s.toFaults[to] = append(s.toFaults[to], f)
	}
}

// AttemptsTo returns how many Messages.json requests named this To number,
// whatever the fake answered: a client's send attempts for that recipient.
func (s *Server) AttemptsTo(to string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[to]
}

// SetOutage answers f to every request from now until EndOutage (after any
// queued faults): an API that is down rather than one failing a counted
// number of times.
func (s *Server) SetOutage(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = &f
}

// EndOutage makes the fake answer normally again.
func (s *Server) EndOutage() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = nil
}

// nextFault counts a request for to and picks the fault it gets, if any.
func (s *Server) nextFault(to string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if to != "" {
		if s.attempts == nil {
			s.attempts = make(map[string]int)
		}
		s.attempts[to]++
	}
	if q := s.toFaults[to]; len(q) > 0 {
		f := q[0]
		s.toFaults[to] = q[1:]
		return &f
	}
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		return &f
	}
	if s.outage != nil {
		f := *s.outage
		return &f
	}
	return nil
}

// Inject queues f for the next n requests (after earlier queued faults).
func (s *Server) Inject(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// FailNext answers the next n requests with HTTP status and a Twilio error
// JSON body carrying code and message.
func (s *Server) FailNext(n, status, code int, message string) {
	s.Inject(n, Fault{Status: status, Code: code, Message: message})
}

// HangNext makes the next n requests sleep d before being answered normally.
func (s *Server) HangNext(n int, d time.Duration) { s.Inject(n, Fault{Hang: d}) }

// Handler returns the fake's HTTP handler (API and /_fake/ control routes).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/2010-04-01/Accounts/{sid}/Messages.json", s.messages)
	mux.HandleFunc("GET /_fake/messages", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Messages())
	})
	mux.HandleFunc("GET /_fake/requests", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"requests": s.Requests()})
	})
	mux.HandleFunc("POST /_fake/reset", func(w http.ResponseWriter, _ *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_fake/faults", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Fault
			N    int    `json:"n"`
			Hang string `json:"hang"`
			To   string `json:"to"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f, err := withHang(req.Fault, req.Hang)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if req.N <= 0 {
			req.N = 1
		}
		if req.To != "" {
			s.InjectTo(req.To, req.N, f)
		} else {
			s.Inject(req.N, f)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_fake/outage", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Fault
			Hang string `json:"hang"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f, err := withHang(req.Fault, req.Hang)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.SetOutage(f)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /_fake/outage", func(w http.ResponseWriter, _ *http.Request) {
		s.EndOutage()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_fake/attempts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"attempts": s.AttemptsTo(r.URL.Query().Get("to"))})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	return mux
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	// The form is read first so that faults can be chosen by recipient; a
	// body that does not parse is answered below, after any fault.
	formErr := r.ParseForm()
	fault := s.nextFault(r.PostForm.Get("To"))
	s.mu.Lock()
	wantUser, wantPass := s.user, s.pass
	s.mu.Unlock()

	if fault != nil && fault.Hang > 0 {
		t := time.NewTimer(fault.Hang)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.done:
			t.Stop()
			return
		}
	}
	if r.Method != http.MethodPost {
		twilioError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" || pass == "" || (wantUser != "" && (user != wantUser || pass != wantPass)) {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if fault != nil && fault.Status != 0 {
		if fault.RawBody != "" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(fault.Status)
			_, _ = w.Write([]byte(fault.RawBody))
			return
		}
		msg := fault.Message
		if msg == "" {
			msg = http.StatusText(fault.Status)
		}
		twilioError(w, fault.Status, fault.Code, msg)
		return
	}
	if formErr != nil {
		twilioError(w, http.StatusBadRequest, 20001, "Could not parse the request body")
		return
	}
	f := r.PostForm
	to, from, svc, body := f.Get("To"), f.Get("From"), f.Get("MessagingServiceSid"), f.Get("Body")
	switch {
	case to == "":
		twilioError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !e164(to):
		twilioError(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+to)
		return
	case from == "" && svc == "":
		twilioError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case body == "" && f.Get("MediaUrl") == "" && f.Get("ContentSid") == "":
		twilioError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len([]rune(body)) > 1600:
		twilioError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}

	account := r.PathValue("sid")
	sid := newSID("SM")
	now := time.Now().UTC()
	s.mu.Lock()
	s.msgs = append(s.msgs, Message{
		SID: sid, AccountSID: account, To: to, From: from, MessagingServiceSID: svc,
		Body: body, StatusCallback: f.Get("StatusCallback"), Username: user, Password: pass,
		Form: f, Received: now,
	})
	s.mu.Unlock()

	status := "queued"
	var fromJSON, svcJSON any
	if from != "" {
		fromJSON = from
	}
	if svc != "" {
		svcJSON = svc
		if from == "" {
			status = "accepted" // Twilio picks the sender from the service later
		}
	}
	date := now.Format(time.RFC1123Z)
	uri := "/2010-04-01/Accounts/" + account + "/Messages/" + sid
	writeJSON(w, http.StatusCreated, map[string]any{
		"account_sid":           account,
		"api_version":           "2010-04-01",
		"body":                  body,
		"date_created":          date,
		"date_sent":             nil,
		"date_updated":          date,
		"direction":             "outbound-api",
		"error_code":            nil,
		"error_message":         nil,
		"from":                  fromJSON,
		"messaging_service_sid": svcJSON,
		"num_media":             "0",
		"num_segments":          strconv.Itoa(segments(body)),
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   sid,
		"status":                status,
		"subresource_uris":      map[string]string{"media": uri + "/Media.json"},
		"to":                    to,
		"uri":                   uri + ".json",
	})
}

func twilioError(w http.ResponseWriter, status, code int, message string) {
	body := map[string]any{"message": message, "status": status}
	if code != 0 {
		body["code"] = code
		body["more_info"] = "https://www.twilio.com/docs/errors/" + strconv.Itoa(code)
	} else {
		body["code"] = nil
		body["more_info"] = nil
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// e164 accepts "+" and 8 to 15 digits.
func e164(n string) bool {
	if len(n) < 9 || len(n) > 16 || n[0] != '+' || n[1] == '0' {
		return false
	}
	for _, c := range n[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// segments estimates the SMS segment count (GSM-7: 160/153, else 70/67).
func segments(body string) int {
	n, per, single := len([]rune(body)), 153, 160
	for _, r := range body {
		if r > 0x7f {
			per, single = 67, 70
			break
		}
	}
	if n <= single {
		return 1
	}
	return (n + per - 1) / per
}

// newSID makes a Twilio-style SID: a two-letter prefix and 32 hex digits.
func newSID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(errors.New("faketwilio: no randomness"))
	}
	return prefix + hex.EncodeToString(b[:])
}

// NewAccountSID returns a random, well-formed Account SID ("AC" + 32 hex).
func NewAccountSID() string { return newSID("AC") }

// IsSID reports whether s looks like a Twilio SID with the given prefix.
func IsSID(s, prefix string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, prefix) {
		return false
	}
	_, err := hex.DecodeString(s[2:])
	return err == nil
}

// withHang is f with a control request's "hang" duration ("2s"), if any.
func withHang(f Fault, hang string) (Fault, error) {
	if hang == "" {
		return f, nil
	}
	d, err := time.ParseDuration(hang)
	if err != nil {
		return f, fmt.Errorf("hang: %w", err)
	}
	f.Hang = d
	return f, nil
}
