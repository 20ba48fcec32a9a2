package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
)

// signup is what a person fills in, from the form or the API.
type signup struct {
	Program      string `json:"program"`
	FirstName    string `json:"first_name"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	Timezone     string `json:"timezone"`
	ConsentEmail bool   `json:"consent_email"`
	ConsentSMS   bool   `json:"consent_sms"`
}

// fieldError names the field a sign-up is refused for.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Message }

// zones is the short list the form offers; the page's script adds the
// browser's own zone when it is not here.
var zones = []string{
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "Pacific/Honolulu", "America/Toronto", "America/Vancouver", "America/Mexico_City",
	"America/Sao_Paulo", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin",
	"Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens",
	"Africa/Johannesburg", "Africa/Lagos", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
	"Australia/Sydney", "Australia/Perth", "Pacific/Auckland", "UTC",
}

func frequency(p *programs.Program) string {
	if p.Frequency != "" {
		return p.Frequency
	}
	return "a few messages a week"
}

// consentText is the exact wording shown beside each box, and stored with
// the consent.
func consentText(p *programs.Program, channel string) string {
	if channel == "sms" {
		return "Text me " + p.Title + " lessons and check-ins at the number above (" + smsFrequency(p.SMSFrequency) + "). " +
			"Msg & data rates may apply. Reply HELP for help, STOP to stop at any time. Consent is not a condition of any purchase."
	}
	return "Email me " + p.Title + " lessons and check-ins (" + frequency(p) + "). " +
		"I can unsubscribe at any time with the link in every email."
}

// validate checks a sign-up and turns it into an enrollment request. It
// writes nothing.
func (s *server) validate(in signup, r *http.Request, source string) (scheduler.EnrollRequest, *fieldError) {
	var req scheduler.EnrollRequest
	comp, _, ok := s.Engine.Current(in.Program)
	if !ok {
		return req, &fieldError{"program", "There is no program called " + in.Program + "."}
	}
	p := comp.Program
	name := strings.TrimSpace(in.FirstName)
	if name == "" {
		return req, &fieldError{"first_name", "Please tell us your first name, so we know what to call you."}
	}
	if utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "<>") || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return req, &fieldError{"first_name", "Please use a shorter first name without special characters."}
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	phone := strings.TrimSpace(in.Phone)
	if email == "" && phone == "" {
		return req, &fieldError{"email", "Please give an email address (or a mobile number) so we can reach you."}
	}
	if email != "" {
		a, err := mail.ParseAddress(email)
		// ToLower turned any invalid UTF-8 into U+FFFD: check the original.
		if err != nil || a.Address != email || !utf8.ValidString(in.Email) || len(email) > 254 || !strings.Contains(email[strings.LastIndexByte(email, '@'):], ".") {
			return req, &fieldError{"email", "That doesn't look like an email address. Please check it, e.g. name@example.com."}
		}
		if !in.ConsentEmail {
			return req, &fieldError{"consent_email", "Please tick the box to agree to receive the emails."}
		}
	}
	if phone != "" {
		num, err := phonenumbers.Parse(phone, s.DefaultRegion)
		if err != nil || !phonenumbers.IsValidNumber(num) {
			return req, &fieldError{"phone", "That doesn't look like a mobile number we can text. Include the country code, e.g. +1 555 010 0199, or leave it empty."}
		}
		phone = phonenumbers.Format(num, phonenumbers.E164)
		if !in.ConsentSMS {
			return req, &fieldError{"consent_sms", "Please tick the box to agree to receive texts, or leave the phone number empty."}
		}
	}
	if _, err := scheduler.LoadZone(in.Timezone); err != nil {
		return req, &fieldError{"timezone", "Please choose your time zone from the list, so messages arrive at a sensible hour."}
	}
	ip, ua := s.clientIP(r), userAgent(r)
	req = scheduler.EnrollRequest{Program: p.Slug, FirstName: name, Email: email, Phone: phone, Timezone: in.Timezone, Source: source, Pending: true}
	if email != "" {
		req.Consents = append(req.Consents, store.Consent{Channel: "email", Action: "granted", Text: consentText(p, "email"), Source: source, IP: ip, UserAgent: ua})
	}
	if phone != "" {
		req.Consents = append(req.Consents, store.Consent{Channel: "sms", Action: "granted", Text: consentText(p, "sms"), Source: source, IP: ip, UserAgent: ua})
	}
	return req, nil
}

// signupOutcome is what a sign-up did.
type signupOutcome int

const (
	signedUp       signupOutcome = iota // a new enrollment, waiting for confirmation
	askedAgain                          // the sign-up was there, waiting: its confirmation went out again
	emailToConfirm                      // already in the program; the email given, not confirmed, is asked to be
)

// enroll creates the pending enrollment and sends the confirmations. A
// person whose sign-up to this program still waits for confirmation (the
// message never came, or its link lapsed) is sent it again instead
// (askedAgain). One already in the program whose email on file is not
// confirmed (never, or since an opt-out of it was lifted) is asked to
// confirm it, and the program goes on meanwhile (emailToConfirm). Anyone
// else already in the program gets store.ErrAlreadyEnrolled. An address
// that opted out, or that clashes with the person on file, is refused with
// fe, naming the field, and nothing changes.
func (s *server) enroll(r *http.Request, req scheduler.EnrollRequest) (out signupOutcome, fe *fieldError, err error) {
	if fe, err := s.optedOut(r.Context(), req); fe != nil || err != nil {
		return signedUp, fe, err
	}
	_, eid, err := s.Engine.Enroll(r.Context(), req)
	if fe := contactFieldError(err); fe != nil {
		return signedUp, fe, nil
	}
	if errors.Is(err, store.ErrAlreadyEnrolled) {
		id, perr := s.Engine.Store.PendingEnrollmentOf(r.Context(), req.Email, req.Phone, req.Program)
		out = askedAgain
		if errors.Is(perr, store.ErrNotFound) {
			id, perr = s.Engine.Store.RunningEnrollmentToReconfirm(r.Context(), req.Email, req.Program)
			out = emailToConfirm
		}
		if perr != nil {
			if !errors.Is(perr, store.ErrNotFound) {
				s.Log.Error("web: find pending sign-up", "err", perr)
			}
			return signedUp, nil, err
		}
		eid = id
	} else if err != nil {
		return signedUp, nil, err
	}
	if s.Confirm != nil {
		if err := s.Confirm(r.Context(), eid); err != nil {
			// The enrollment stands; the confirmation can be resent.
			s.Log.Error("web: send confirmation", "enrollment", eid, "err", err)
		}
	}
	return out, nil, nil
}

// ---- the form ----

const csrfCookie = "rk_csrf"

func (s *server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	nonce := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		nonce = c.Value
	} else {
		b := make([]byte, 18)
		rand.Read(b)
		nonce = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: nonce, Path: "/subscribe/", HttpOnly: true,
			Secure: strings.HasPrefix(s.BaseURL, "https://"), SameSite: http.SameSiteLaxMode, MaxAge: 12 * 3600})
	}
	return s.Signer.Sign("csrf", nonce, s.now().Add(12*time.Hour))
}

func (s *server) csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil {
		return false
	}
	subj, err := s.Signer.Verify("csrf", r.PostFormValue("csrf"), s.now())
	return err == nil && subj == c.Value
}

func (s *server) formPage(w http.ResponseWriter, r *http.Request, status int, p *programs.Program, in signup, fe *fieldError) {
	data := map[string]any{
		"Title": "Join " + p.Title, "Program": p, "Frequency": frequency(p), "In": in, "Zones": zones,
		"EmailConsent": consentText(p, "email"), "SMSConsent": consentText(p, "sms"),
		"CSRF": s.csrfToken(w, r), "Err": fe, "Support": s.SupportContact,
	}
	if fe != nil {
		data["Title"] = "Please check the form: join " + p.Title
	}
	s.render(w, status, "subscribe", data)
}

func (s *server) subscribePage(w http.ResponseWriter, r *http.Request) {
	comp, _, ok := s.Engine.Current(r.PathValue("program"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "We couldn't find that program", "Please check the address. It should end with the program's name, such as /subscribe/rekindle.")
		return
	}
	in := signup{Timezone: comp.Program.DefaultTimezone}
	s.formPage(w, r, http.StatusOK, comp.Program, in, nil)
}

func (s *server) subscribe(w http.ResponseWriter, r *http.Request) {
	comp, _, ok := s.Engine.Current(r.PathValue("program"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "We couldn't find that program", "Please check the address. It should end with the program's name, such as /subscribe/rekindle.")
		return
	}
	p := comp.Program
	if !s.allow(r) {
		w.Header().Set("Retry-After", "60")
		s.fail(w, r, http.StatusTooManyRequests, "Please wait a moment", "We've had a lot of sign-ups from your connection just now. Please try again in a minute.")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "We couldn't read the form", "Please go back and send it again.")
		return
	}
	in := signup{
		Program: p.Slug, FirstName: r.PostFormValue("first_name"), Email: r.PostFormValue("email"),
		Phone: r.PostFormValue("phone"), Timezone: r.PostFormValue("timezone"),
		ConsentEmail: r.PostFormValue("consent_email") != "", ConsentSMS: r.PostFormValue("consent_sms") != "",
	}
	if !s.csrfOK(r) {
		s.formPage(w, r, http.StatusForbidden, p, in, &fieldError{"form", "This form was open for a long time or came from another site. Please check your details and send it again."})
		return
	}
	if r.PostFormValue("website") != "" { // the honeypot: people never see it
		s.inboxPage(w, in)
		return
	}
	req, fe := s.validate(in, r, "web")
	var err error
	out := signedUp
	if fe == nil {
		out, fe, err = s.enroll(r, req)
	}
	if fe != nil {
		s.formPage(w, r, http.StatusBadRequest, p, in, fe)
		return
	}
	if errors.Is(err, store.ErrAlreadyEnrolled) {
		s.message(w, http.StatusConflict, "You're already signed up",
			"This email address or phone number is already in "+p.Title+". Every message we send has a link to pause or leave whenever you need to.")
		return
	} else if err != nil {
		s.oops(w, r, err)
		return
	}
	if out == emailToConfirm {
		s.message(w, http.StatusOK, "Please confirm your email address",
			"You're already in "+p.Title+". We've sent an email to "+strings.TrimSpace(in.Email)+": press the confirm button in it and your messages will come by email as well.",
			"Until then, everything carries on as it is now. If the email isn't there in a few minutes, have a look in your spam folder.")
		return
	}
	s.inboxPage(w, in)
}

// optedOut refuses a sign-up to an address that opted out: nothing may be
// sent to it, not even the confirmation, so the person is told how to have
// it back instead of being told a message is on its way.
func (s *server) optedOut(ctx context.Context, req scheduler.EnrollRequest) (*fieldError, error) {
	chans, err := s.Engine.Store.SuppressedChannels(ctx, req.Email, req.Phone)
	if err != nil {
		return nil, err
	}
	switch {
	case slices.Contains(chans, "email"):
		msg := "This address unsubscribed from our emails earlier, so we won't email it again."
		if s.SupportContact != "" {
			msg += " If you'd like them back, write to us at " + s.SupportContact + "."
		}
		return &fieldError{"email", msg}, nil
	case slices.Contains(chans, "sms"):
		return &fieldError{"phone", "This number asked us to stop texting it, so we won't text it again from a sign-up. " +
			"To have texts back, reply START to any text from us first, or leave the number empty."}, nil
	}
	return nil, nil
}

// contactFieldError turns a clash with the addresses on file into the
// form's error for the field at fault; nil for any other error.
func contactFieldError(err error) *fieldError {
	var ce *store.ContactError
	if !errors.As(err, &ce) {
		return nil
	}
	if ce.OnFile == "email" {
		return &fieldError{ce.Field, "This mobile number is already signed up with a different email address, or with none. Please use the address you signed up with (or none), or leave the number empty."}
	}
	return &fieldError{ce.Field, "This email address is already signed up with a different mobile number, or with none. Please use the number you signed up with (or none), or leave the number empty."}
}

func (s *server) inboxPage(w http.ResponseWriter, in signup) {
	var paras []string
	if strings.TrimSpace(in.Email) != "" {
		paras = append(paras, "We've sent an email to "+strings.TrimSpace(in.Email)+". Please open it and press the confirm button; until you do, we won't send anything else. If it isn't there in a few minutes, have a look in your spam folder.")
	}
	if strings.TrimSpace(in.Phone) != "" {
		paras = append(paras, "We've also sent a text to your phone. Reply YES to it to get text messages as well.")
	}
	s.message(w, http.StatusOK, "Almost there: please confirm", paras...)
}

// ---- the API ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, map[string]any{"error": fieldError{Field: field, Message: msg}})
}

// apiSubscribe is the form as JSON. It takes no cookies; requiring
// application/json keeps browsers from posting it cross-site without a
// preflight.
func (s *server) apiSubscribe(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		apiError(w, http.StatusUnsupportedMediaType, "", "send the request body as application/json")
		return
	}
	if !s.allow(r) {
		w.Header().Set("Retry-After", "60")
		apiError(w, http.StatusTooManyRequests, "", "too many sign-ups from this address; try again in a minute")
		return
	}
	var in signup
	if field, err := decodeJSONBody(r.Body, &in); err != nil {
		status := http.StatusBadRequest
		if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		apiError(w, status, field, err.Error())
		return
	}
	req, fe := s.validate(in, r, "api")
	out := signedUp
	var err error
	if fe == nil {
		out, fe, err = s.enroll(r, req)
	}
	if fe != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": fe})
		return
	}
	if errors.Is(err, store.ErrAlreadyEnrolled) {
		apiError(w, http.StatusConflict, "", "already enrolled in this program")
		return
	} else if err != nil {
		s.Log.Error("web: api subscribe", "err", err)
		apiError(w, http.StatusInternalServerError, "", "something went wrong on our side; try again later")
		return
	}
	if out != signedUp { // the sign-up or the person was there: a confirmation went out again
		writeJSON(w, http.StatusOK, map[string]string{"status": "pending"})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"status": "pending"})
}
