package web

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/mail"
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
	// Texts carry a short thought from each lesson and the check-ins; the
	// lessons themselves go by email, so someone signing up by text alone
	// is told what they will and will not get.
	if channel == "sms" {
		return "Text me short " + p.Title + " nudges and check-ins at the number above (" + smsFrequency(p.SMSFrequency) + "). " +
			"The full lessons come by email only. " +
			"Msg & data rates may apply. Reply HELP for help, STOP to opt out at any time. Consent is not a condition of any purchase."
	}
	return "Email me " + p.Title + " lessons and check-ins (" + frequency(p) + "). " +
		"I can unsubscribe at any time with the link in every email."
}

// badPhoneMessage answers a phone number that is not a number at all. Its
// example must pass the checks it explains (web/signup_phone_test.go): 555
// 0100 to 0199 are reserved for fiction, and 202 is a real area code.
const badPhoneMessage = "That doesn't look like a mobile number we can text. Include the country code, e.g. +1 202 555 0199, or leave it empty."

// validate checks a sign-up and turns it into an enrollment request. It
// writes nothing. It reports every field that needs fixing at once, at most
// one message a field, so that the person fixes them all in one go rather
// than meeting them one by one; the request is only valid with none.
func (s *server) validate(in signup, r *http.Request, source string) (scheduler.EnrollRequest, []*fieldError) {
	var req scheduler.EnrollRequest
	comp, _, ok := s.Engine.Current(in.Program)
	if !ok {
		return req, []*fieldError{{"program", "There is no program called " + in.Program + "."}}
	}
	p := comp.Program
	var errs []*fieldError
	bad := func(field, msg string) { errs = append(errs, &fieldError{field, msg}) }
	name := strings.TrimSpace(in.FirstName)
	// Each refusal names what is wrong with the name: "shorter" said to
	// someone whose short name holds a "<" sent them looking for a length
	// problem they did not have.
	switch {
	case name == "":
		bad("first_name", "Please tell us your first name, so we know what to call you.")
	case utf8.RuneCountInString(name) > 100:
		bad("first_name", "That's longer than we can take. Please give just your first name, in 100 characters or fewer.")
	case strings.ContainsAny(name, "<>") || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		bad("first_name", "Your first name has a character we can't use, such as < or >. Please type it again without it.")
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	phone := strings.TrimSpace(in.Phone)
	if email == "" && phone == "" {
		bad("email", "Please give an email address (or a mobile number) so we can reach you.")
	}
	if email != "" {
		a, err := mail.ParseAddress(email)
		// ToLower turned any invalid UTF-8 into U+FFFD: check the original.
		if err != nil || a.Address != email || !utf8.ValidString(in.Email) || len(email) > 254 || !strings.Contains(email[strings.LastIndexByte(email, '@'):], ".") {
			bad("email", "That doesn't look like an email address. Please check it, e.g. name@example.com.")
		}
		if !in.ConsentEmail {
			bad("consent_email", "Please tick the box to agree to receive the emails.")
		}
	}
	if phone != "" {
		num, err := phonenumbers.Parse(phone, s.DefaultRegion)
		switch {
		case err != nil || !phonenumbers.IsValidNumber(num):
			bad("phone", badPhoneMessage)
		default:
			// A number that cannot take texts would never get the
			// confirmation, and someone signing up by phone alone would
			// wait for lessons that never come: say so now, while they can
			// give another. The rule is the one every way in shares.
			switch err := scheduler.Textable(num); {
			case errors.Is(err, scheduler.ErrLandline):
				bad("phone", "That looks like a landline number, which can't receive texts. Please give a mobile number, or leave the phone number empty.")
			case err != nil: // toll-free, premium rate, pager and the like
				bad("phone", "That number can't receive texts from us. Please give a mobile number, or leave the phone number empty.")
			}
			phone = phonenumbers.Format(num, phonenumbers.E164)
		}
		if !in.ConsentSMS {
			bad("consent_sms", "Please tick the box to agree to receive texts, or leave the phone number empty.")
		}
	}
	if _, err := scheduler.LoadZone(in.Timezone); err != nil {
		if source == "api" {
			// An API caller has no list to choose from: say what the
			// field takes.
			bad("timezone", "The timezone field needs an IANA time zone name, such as Europe/London or America/New_York, so messages arrive at a sensible hour.")
		} else {
			bad("timezone", "Please choose your time zone from the list, so messages arrive at a sensible hour.")
		}
	}
	if len(errs) > 0 {
		return req, errs
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

// enroll takes a valid sign-up. What it does depends on who is on file,
// and only the owner of the address hears of it; the person at the form
// (who may not be that owner) is answered the same whatever happened (see
// received), so that nobody can use sign-ups to find out whether someone
// is in a breakup program.
//
// A new sign-up waits for confirmation. A person whose sign-up to this
// program still waits (the message never came, or its link lapsed) is sent
// the confirmation again. One already in the program whose email on file is
// not confirmed (never, or since an opt-out of it was lifted) is asked to
// confirm it, and the program goes on meanwhile. Nothing at all is sent to
// anyone else already in the program, to an address that opted out (not
// even a confirmation may go to it) or for a sign-up whose addresses clash
// with the person on file (whoever typed it would answer the confirmation
// for them). The outcome is returned for the log.
func (s *server) enroll(r *http.Request, req scheduler.EnrollRequest) (outcome string, err error) {
	ctx := r.Context()
	chans, err := s.Engine.Store.SuppressedChannels(ctx, req.Email, req.Phone)
	if err != nil {
		return "", err
	}
	if len(chans) > 0 {
		return "opted out: nothing sent", nil
	}
	_, eid, err := s.Engine.Enroll(ctx, req)
	var ce *store.ContactError
	switch {
	case errors.As(err, &ce):
		return "addresses clash with the person on file (" + ce.Field + "): nothing sent", nil
	case errors.Is(err, store.ErrAlreadyEnrolled):
		id, perr := s.Engine.Store.PendingEnrollmentOf(ctx, req.Email, req.Phone, req.Program)
		outcome = "pending: confirmation sent again"
		if errors.Is(perr, store.ErrNotFound) {
			id, perr = s.Engine.Store.RunningEnrollmentToReconfirm(ctx, req.Email, req.Program)
			outcome = "in the program: email asked to confirm"
		}
		if errors.Is(perr, store.ErrNotFound) {
			return "already in the program: nothing sent", nil
		} else if perr != nil {
			return "", perr
		}
		eid = id
	case err != nil:
		return "", err
	default:
		outcome = "new: confirmation sent"
	}
	if s.Confirm != nil {
		if err := s.Confirm(ctx, eid); err != nil {
			// The enrollment stands; the confirmation can be resent.
			s.Log.Error("web: send confirmation", "enrollment", eid, "err", err)
		}
	}
	return outcome, nil
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

// formPage shows the form, with errs (if any) listed at its top, each
// linking to its field, and each beside its field, which it describes.
func (s *server) formPage(w http.ResponseWriter, r *http.Request, status int, p *programs.Program, in signup, errs ...*fieldError) {
	byField := map[string]string{}
	for _, fe := range errs {
		byField[fe.Field] = fe.Message
	}
	data := map[string]any{
		"Title": "Join " + p.Title, "Program": p, "Frequency": frequency(p), "In": in, "Zones": zones,
		"EmailConsent": consentText(p, "email"), "SMSConsent": consentText(p, "sms"),
		"CSRF": s.csrfToken(w, r), "Errs": errs, "FieldErr": byField, "Support": s.SupportContact,
	}
	if len(errs) > 0 {
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
	s.formPage(w, r, http.StatusOK, comp.Program, in)
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
		s.received(w, p, in)
		return
	}
	req, errs := s.validate(in, r, "web")
	if len(errs) > 0 {
		s.formPage(w, r, http.StatusBadRequest, p, in, errs...)
		return
	}
	outcome, err := s.enroll(r, req)
	if err != nil {
		s.oops(w, r, err)
		return
	}
	s.Log.Info("web: sign-up", "program", p.Slug, "source", "web", "outcome", outcome)
	s.received(w, p, in)
}

// received is the answer to every valid sign-up, the same whether the
// addresses are new, already in the program, waiting for confirmation or
// opted out: it names only what the person typed, and says what happens
// next for a new sign-up, and why nothing may come, without saying which.
func (s *server) received(w http.ResponseWriter, p *programs.Program, in signup) {
	s.message(w, http.StatusOK, "Thank you: please check your messages", s.receivedParas(p, in)...)
}

func (s *server) receivedParas(p *programs.Program, in signup) []string {
	email, phone := strings.TrimSpace(in.Email), strings.TrimSpace(in.Phone)
	var paras []string
	// When the confirmation text goes: the program's quiet hours, in the
	// person's own zone, hold it until morning.
	textLater := ""
	if phone != "" {
		if loc, err := scheduler.LoadZone(in.Timezone); err == nil {
			now := s.now()
			if at := s.Engine.ConfirmationAt(p, "sms", now, loc); at.After(now) {
				textLater = at.In(loc).Format("15:04")
			}
		}
	}
	// What goes out depends on who is on file, which the page must not
	// tell: each claim is made under one condition that covers every case
	// where nothing is sent (the person is on file, whatever their state,
	// or asked not to be contacted: the whole sign-up then sends nothing).
	// The page leads with what happens for nearly everyone, and then says
	// when it does not.
	const next = "Here's what happens next: "
	switch {
	case email != "" && phone != "":
		paras = append(paras, next+"an email with a confirm button is on its way to "+email+", unless "+email+" or "+phone+" is already signed up with us or has asked us not to contact it. "+
			"Please open it and press the button; until you do, we won't email you anything else. If it isn't in your inbox in a few minutes, have a look in your spam folder.")
		if textLater != "" {
			paras = append(paras, "We'll also text "+phone+" at "+textLater+" your time, once our quiet hours are over, with the same exception. Reply YES to that text if you'd like our short texts as well.")
		} else {
			paras = append(paras, "A text is on its way to "+phone+" too, with the same exception. Reply YES to it if you'd like our short texts as well.")
		}
	case email != "":
		paras = append(paras, next+"an email with a confirm button is on its way to "+email+", unless that address is already signed up with us or has asked us not to write to it. "+
			"Please open it and press the button; until you do, we won't email you anything else. If it isn't in your inbox in a few minutes, have a look in your spam folder.")
	case textLater != "":
		paras = append(paras, next+"we'll text "+phone+" at "+textLater+" your time, once our quiet hours are over, unless that number is already signed up with us or has asked us to stop texting it. "+
			"Please reply YES to that text; until you do, we won't send anything else.")
	default:
		paras = append(paras, next+"a text is on its way to "+phone+", unless that number is already signed up with us or has asked us to stop texting it. "+
			"Please reply YES to it; until you do, we won't send anything else.")
	}
	// Emails carry a link to pause or leave; texts carry none, but PAUSE
	// and STOP work by reply. The sentence follows what was typed, not who
	// is on file, so it tells nobody anything.
	ways := "every email we send has a link to pause it or leave."
	switch {
	case email != "" && phone != "":
		ways = "every email we send has a link to pause it or leave, and you can reply PAUSE or STOP to any of our texts."
	case email == "":
		ways = "you can reply PAUSE or STOP to any of our texts."
	}
	nothing := "If nothing comes, this page can't tell you why: so that nobody can use it to find out who has signed up, it looks the same for everyone. " +
		"If you're already in the program, " + ways
	if phone != "" {
		nothing += " If you once texted STOP to us, reply START to one of our texts first."
	}
	// An email opt-out is lifted only by support (rekindle lift-optout):
	// signing up sends nothing to the address until then, and after it the
	// person signs up and confirms again, so say whom to ask and what
	// follows, as the unsubscribe pages do. Without a contact nothing is
	// promised.
	if email != "" && s.SupportContact != "" {
		nothing += " If you once unsubscribed from our emails, write to us at " + s.SupportContact + ". " + emailsAgain
	}
	// The page's footer gives the support contact.
	return append(paras, nothing)
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
	req, errs := s.validate(in, r, "api")
	if len(errs) > 0 {
		// "errors" names every field to fix; "error" is the first, as
		// before there was a list.
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": errs[0], "errors": errs})
		return
	}
	outcome, err := s.enroll(r, req)
	if err != nil {
		s.Log.Error("web: api subscribe", "err", err)
		apiError(w, http.StatusInternalServerError, "", "something went wrong on our side; try again later")
		return
	}
	s.Log.Info("web: sign-up", "program", req.Program, "source", "api", "outcome", outcome)
	// The same answer whatever happened, as on the form: whether the
	// address was known is for its owner, who hears by email or text.
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "received"})
}
