package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
	"github.com/rekindle/rekindle/token"
)

// ---- check-ins ----

type choice struct {
	Value, Label string
	Selected     bool
}

// checkinFor loads a check-in by its link token with the question it asks.
func (s *server) checkinFor(w http.ResponseWriter, r *http.Request) (store.Checkin, *programs.Checkin, bool) {
	ctx := r.Context()
	tok := r.PathValue("token")
	// Tokens are hex. Text PostgreSQL refuses (bad UTF-8, NUL) names no
	// check-in and is not looked up: it would fail as a 500.
	var c store.Checkin
	err := store.ErrNotFound
	if utf8.ValidString(tok) && !strings.ContainsRune(tok, 0) {
		c, err = s.Engine.Store.CheckinByToken(ctx, tok)
	}
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "We couldn't find this check-in",
			"The link may be incomplete. Try opening it again from the email, or copy the whole address into your browser.")
		return c, nil, false
	}
	if err != nil {
		s.oops(w, r, err)
		return c, nil, false
	}
	vid, err := s.Engine.Store.EnrollmentVersion(ctx, c.EnrollmentID)
	if err != nil {
		s.oops(w, r, err)
		return c, nil, false
	}
	comp, err := s.Engine.Version(ctx, vid)
	if err != nil {
		s.oops(w, r, err)
		return c, nil, false
	}
	step := comp.Program.Step(c.StepKey)
	if step == nil || step.Checkin == nil {
		s.fail(w, r, http.StatusNotFound, "This check-in is no longer asked",
			"The program has changed since this email was sent, so there's nothing to answer here.")
		return c, nil, false
	}
	return c, step.Checkin, true
}

func choices(q *programs.Checkin, selected string) []choice {
	out := make([]choice, 0, len(q.Answers))
	for _, a := range q.Answers {
		label := a.Label
		if label == "" {
			label = a.Value
		}
		out = append(out, choice{Value: a.Value, Label: label, Selected: a.Value == selected})
	}
	return out
}

// checkinPage shows the question with the clicked answer preselected. It
// records nothing: mail scanners open links too.
func (s *server) checkinPage(w http.ResponseWriter, r *http.Request) {
	c, q, ok := s.checkinFor(w, r)
	if !ok {
		return
	}
	sel := r.URL.Query().Get("a")
	if sel == "" {
		sel = c.Answer
	}
	question := q.Question
	if question == "" {
		question = "How are things?"
	}
	closed := s.now().After(c.ClosesAt)
	s.render(w, http.StatusOK, "checkin", map[string]any{
		"Title": "Your check-in", "Question": question, "Choices": choices(q, sel),
		"Previous": c.Answer, "Closed": closed && c.Answer != "",
		// A first answer after the window is kept but steers nothing: say
		// so before they choose, not only after.
		"Late": closed && c.Answer == "",
	})
}

// checkinAnswer records the answer.
func (s *server) checkinAnswer(w http.ResponseWriter, r *http.Request) {
	c, q, ok := s.checkinFor(w, r)
	if !ok {
		return
	}
	a := strings.TrimSpace(r.PostFormValue("a"))
	if a == "" {
		s.fail(w, r, http.StatusBadRequest, "Please choose an answer", "Go back, pick the answer that fits best, and press the button again.")
		return
	}
	res, err := s.Engine.RecordAnswer(r.Context(), scheduler.AnswerInput{CheckinID: c.ID, Value: a, Source: "email-link"})
	switch {
	case errors.Is(err, scheduler.ErrUnrecognized):
		s.fail(w, r, http.StatusBadRequest, "That answer isn't one of the choices", "Go back and pick one of the answers shown on the page.")
		return
	case errors.Is(err, scheduler.ErrAnswerWindowEnd):
		s.message(w, http.StatusConflict, "This check-in has closed",
			// As the text reply: no promise of a check-in that may not come.
			"Thanks for coming back to it. We've kept the answer you gave before.")
		return
	case errors.Is(err, scheduler.ErrNoOpenCheckin):
		s.fail(w, r, http.StatusNotFound, "We couldn't find this check-in", "It may have been removed when your program ended.")
		return
	case err != nil:
		s.oops(w, r, err)
		return
	}
	label := res.Value
	for _, ch := range choices(q, "") {
		if ch.Value == res.Value {
			label = ch.Label
		}
	}
	first := "We've noted your answer: " + label + "."
	if res.Updated {
		// As the text reply: only the first answer steers the program.
		first = "We've noted your new answer: " + label + ". Any change your first answer made to your program stays as it is."
	}
	next := "There's nothing else you need to do. Your next message will arrive as planned."
	switch res.Enrollment {
	case "paused":
		next = "There's nothing else you need to do. Your program is paused, so nothing is sent for now; it picks up from where you left off when you resume."
	case "completed":
		next = "There's nothing else you need to do."
	case "unenrolled":
		next = "You've left this program, so we won't send you anything more from it. There's nothing else you need to do."
	}
	if days := scheduler.ExtendedBy(res.Actions); days > 0 && res.Enrollment == "active" {
		// "Not yet": the next phase is held, so the next lesson is not
		// the one planned; the branch's own note says the rest.
		next = "We'll give you " + plural(days, "more day") + " before the program moves on. There's nothing else you need to do."
	}
	if track := scheduler.SwitchedTo(res.Actions); track != "" && res.Enrollment == "active" {
		// The answer changed course (a new partner): the next lessons are
		// not the ones planned, so "as planned" would mislead.
		next = "Your program now changes course to fit your answer: your next lessons are the " + track + " ones. There's nothing else you need to do."
	}
	if res.Late {
		// Kept, but the program has moved on: say so rather than let them
		// expect the answer to change what comes next. No next message is
		// promised: the program may have ended.
		next = "This check-in had already closed, so your answer won't change what we send you. There's nothing else you need to do."
	}
	s.message(w, http.StatusOK, "Thank you for checking in", first, next)
}

// ---- unsubscribe ----

// unsubSubject parses "s<ID>.<channel>".
func unsubSubject(sub string) (int64, string, bool) {
	id, ch, ok := strings.Cut(sub, ".")
	if !ok || (ch != "email" && ch != "sms") || !strings.HasPrefix(id, "s") {
		return 0, "", false
	}
	n, err := strconv.ParseInt(id[1:], 10, 64)
	return n, ch, err == nil && n > 0
}

func (s *server) verify(w http.ResponseWriter, r *http.Request, purpose string) (string, bool) {
	sub, err := s.Signer.Verify(purpose, r.PathValue("token"), s.now())
	switch {
	case errors.Is(err, token.ErrExpired) && purpose == token.Confirm:
		// No more recent message holds a confirm link unless they ask
		// for one, and signing up again does (README: a lapsed link is
		// never a dead end): say so.
		msg := "Confirmation links only work for a while, and this one has run out. Nothing is lost: sign up again with the same details and we'll send you a fresh link."
		if progs := s.Engine.Programs(); len(progs) == 1 {
			for slug := range progs {
				msg += " The sign-up page is at " + s.BaseURL + "/subscribe/" + slug + "."
			}
		}
		s.fail(w, r, http.StatusGone, "This link has expired", msg)
		return "", false
	case errors.Is(err, token.ErrExpired):
		s.fail(w, r, http.StatusGone, "This link has expired",
			"Links in our messages only work for a while. Use the link in a more recent message, or get in touch and we'll sort it out for you.")
		return "", false
	case err != nil:
		s.fail(w, r, http.StatusBadRequest, "This link isn't valid",
			"It may have been cut short when it was copied. Try opening it again from the message, or copy the whole address into your browser.")
		return "", false
	}
	return sub, true
}

func channelName(ch string) string {
	if ch == "sms" {
		return "text messages"
	}
	return "emails"
}

func (s *server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	subj, ok := s.verify(w, r, token.Unsubscribe)
	if !ok {
		return
	}
	id, ch, ok := unsubSubject(subj)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "This link isn't valid", "It doesn't name anything we can unsubscribe.")
		return
	}
	// Opened again after use, the link says plainly that it is done
	// rather than offer a button as if nothing had happened.
	if sub, err := s.Engine.Store.SubscriberByID(r.Context(), nil, id); err == nil &&
		(ch == "email" && sub.EmailStatus == "revoked" || ch == "sms" && sub.SMSStatus == "revoked") {
		paras := []string{"You've already unsubscribed from our " + channelName(ch) + ", so there's nothing more to do. We won't send you any."}
		if back := s.wayBack(ch); back != "" {
			paras = append(paras, back)
		}
		s.message(w, http.StatusOK, "You're already unsubscribed", paras...)
		return
	}
	s.render(w, http.StatusOK, "unsubscribe", map[string]any{"Title": "Unsubscribe", "Channel": channelName(ch)})
}

// unsubscribe works without cookies or a CSRF token: mail clients send
// RFC 8058 one-click POSTs (List-Unsubscribe=One-Click) on their own.
func (s *server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	subj, ok := s.verify(w, r, token.Unsubscribe)
	if !ok {
		return
	}
	id, ch, ok := unsubSubject(subj)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "This link isn't valid", "It doesn't name anything we can unsubscribe.")
		return
	}
	ctx := r.Context()
	sub, err := s.Engine.Store.SubscriberByID(ctx, nil, id)
	if errors.Is(err, store.ErrNotFound) {
		s.message(w, http.StatusOK, "You're unsubscribed", "We have no messages to send you.")
		return
	}
	if err != nil {
		s.oops(w, r, err)
		return
	}
	source := "email-link"
	if r.PostFormValue("List-Unsubscribe") == "One-Click" {
		source = "one-click"
	}
	if err := s.Engine.OptOut(ctx, sub, ch, source, s.clientIP(r), userAgent(r)); err != nil {
		s.oops(w, r, err)
		return
	}
	paras := []string{"We won't send you any more " + channelName(ch) + "."}
	if stillGets(sub, ch) {
		// The other channel goes on, and each is left its own way.
		if ch == "sms" {
			paras = append(paras, "This doesn't change your emails. To stop those too, use the unsubscribe link at the bottom of any email from us.")
		} else {
			paras = append(paras, "This doesn't change your texts. To stop those too, reply STOP to any text from us.")
		}
	}
	if back := s.wayBack(ch); back != "" {
		paras = append(paras, back)
	}
	s.message(w, http.StatusOK, "You're unsubscribed", paras...)
}

// wayBack tells someone who left a channel how to have it back, in a way
// that works: an opted-out address stays suppressed, so signing up again
// sends nothing to it. Texts come back with START. Emails come back in
// three steps: support lifts the opt-out (rekindle lift-optout), then the
// person signs up again and confirms, so the page names all three; without
// a support contact to write to nothing is promised.
func (s *server) wayBack(ch string) string {
	if ch == "sms" {
		return "If you change your mind, reply START to any text from us."
	}
	if s.SupportContact == "" {
		return ""
	}
	return "If you change your mind, write to us at " + s.SupportContact + ". " + emailsAgain
}

// emailsAgain is what follows the support contact wherever an email
// opt-out is the reason nothing comes: lifting it sends nothing by itself.
const emailsAgain = "Once we've taken your address off our do-not-email list, sign up again and press the confirm button in the email we send, and your emails will start again."

// ---- confirm ----

func confirmSubject(sub string) (int64, bool) {
	if !strings.HasPrefix(sub, "e") {
		return 0, false
	}
	n, err := strconv.ParseInt(sub[1:], 10, 64)
	return n, err == nil && n > 0
}

func (s *server) confirmPage(w http.ResponseWriter, r *http.Request) {
	subj, ok := s.verify(w, r, token.Confirm)
	if !ok {
		return
	}
	id, ok := confirmSubject(subj)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "This link isn't valid", "It doesn't name a sign-up we can confirm.")
		return
	}
	// The page only reads: what the button will do depends on where the
	// sign-up stands, and the page must not promise a "first message" to
	// someone already in the program (whose email alone waits), nor to a
	// sign-up the button will not start. The button's answer tells the
	// rest.
	row, err := s.confirmRow(r.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.oops(w, r, err)
		return
	}
	what := "Press the button to confirm it was you who signed up."
	switch {
	case err != nil:
	case row.Status == "pending" && row.EmailStatus != "revoked":
		what = "One last step. Press the button to confirm it was you who signed up, and your first message will be on its way."
	case running(row.Status) && row.EmailStatus == "pending":
		what = "You're already in the program. Press the button to confirm this email address, and your messages will come by email too."
	case running(row.Status):
		// Opened again after use: say it is done, as the button would.
		s.message(w, http.StatusOK, "You're already confirmed", s.alreadyConfirmed(row)...)
		return
	}
	s.render(w, http.StatusOK, "confirm", map[string]any{"Title": "Confirm your sign-up", "What": what})
}

// confirmRow reads the enrollment a confirm link names.
func (s *server) confirmRow(ctx context.Context, id int64) (store.Enrollment, error) {
	var row store.Enrollment
	err := s.Engine.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		row, err = s.Engine.Store.LockEnrollment(ctx, tx, id)
		return err
	})
	return row, err
}

// running reports whether an enrollment status is a program under way (or
// finished) rather than one waiting to start or ended by the person.
func running(status string) bool {
	return status == "active" || status == "paused" || status == "completed"
}

// alreadyConfirmed is what a confirm link opened again says to someone in
// the program whose email is not waiting: where their program stands and,
// when emails no longer come, that it goes on by text, so that nobody waits
// for emails that will not come.
func (s *server) alreadyConfirmed(row store.Enrollment) []string {
	var paras []string
	switch row.Status {
	case "paused":
		paras = append(paras, "There's nothing more to do. Your program is paused, so nothing is sent for now; it picks up from where you left off when you resume.")
	case "completed":
		paras = append(paras, "There's nothing more to do. You've finished this program, so nothing more is sent from it.")
	default:
		if row.EmailStatus == "confirmed" {
			paras = append(paras, "There's nothing more to do. Your messages come as planned.")
		} else {
			paras = append(paras, "There's nothing more to do.")
		}
	}
	switch row.EmailStatus {
	case "revoked":
		paras = append(paras, "You unsubscribed from our emails, so we won't send you any. Your program goes on by text only.")
		if back := s.wayBack("email"); back != "" {
			paras = append(paras, back)
		}
	case "none", "":
		paras = append(paras, "We have no email address for you now, so your program goes on by text only.")
	}
	return paras
}

func (s *server) confirm(w http.ResponseWriter, r *http.Request) {
	subj, ok := s.verify(w, r, token.Confirm)
	if !ok {
		return
	}
	id, ok := confirmSubject(subj)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "This link isn't valid", "It doesn't name a sign-up we can confirm.")
		return
	}
	ctx := r.Context()
	row, err := s.confirmRow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "We couldn't find this sign-up", "It may have been removed. You're welcome to sign up again.")
		return
	}
	if err != nil {
		s.oops(w, r, err)
		return
	}
	confirmEmail := func(title, para string) {
		if err := s.confirmChannel(ctx, row.SubscriberID, "email", "email-link", "", s.clientIP(r), userAgent(r), id); err != nil {
			s.oops(w, r, err)
			return
		}
		// Texts carry no link: only emails are promised one.
		s.message(w, http.StatusOK, title, para, "Every email has a link to pause or unsubscribe whenever you need to. If you get our texts, you can also reply PAUSE or STOP to any of them.")
	}
	switch row.Status {
	case "active", "paused", "completed":
		if row.EmailStatus != "pending" {
			s.message(w, http.StatusOK, "You're already confirmed", s.alreadyConfirmed(row)...)
			return
		}
		// They confirmed by text first (YES started the program); the email
		// address still waits for this button.
		confirmEmail("Your email address is confirmed", "Thank you. From now on your messages come by email as well as by text.")
		return
	case "unenrolled":
		if row.EmailStatus == "revoked" {
			break // they unsubscribed: told below, with the way back that works
		}
		s.message(w, http.StatusOK, "This sign-up has ended", "You left this program, so there's nothing to confirm. You're welcome to sign up again any time.")
		return
	}
	if row.EmailStatus == "revoked" {
		paras := []string{"You unsubscribed from our emails, so we won't start sending them."}
		if back := s.wayBack("email"); back != "" {
			paras = append(paras, back)
		}
		s.message(w, http.StatusOK, "You've unsubscribed", paras...)
		return
	}
	confirmEmail("You're confirmed", "Thank you. Your first message is on its way; keep an eye on your inbox.")
}

// ---- manage ----

func manageSubject(sub string) (int64, bool) {
	if !strings.HasPrefix(sub, "s") {
		return 0, false
	}
	n, err := strconv.ParseInt(sub[1:], 10, 64)
	return n, err == nil && n > 0
}

type manageItem struct {
	ID            int64
	Title, Status string
	// ResumesOn is the day a timed pause ends, as the person reads it
	// ("Monday 8 June"); "" for a pause until they resume.
	ResumesOn string
	// Commands are the program's commands that switch track (MOVED ON)
	// and would change it now: someone who gets no texts says them here.
	Commands []manageCommand
}

// manageCommand is a program command offered on the manage page as the
// text reply would be: Word is what it matches ("moved on"), Track the
// track it switches to.
type manageCommand struct {
	Word, Button, Reply, Track string
}

// capitalized is a phrase with its first letter upper case ("Moved on").
func capitalized(phrase string) string {
	r, n := utf8.DecodeRuneInString(phrase)
	return string(unicode.ToUpper(r)) + phrase[n:]
}

// commandsFor lists the track-switching commands of the version an
// enrollment is pinned to that would change its track now.
func (s *server) commandsFor(ctx context.Context, id int64) ([]manageCommand, error) {
	row, err := s.confirmRow(ctx, id)
	if err != nil {
		return nil, err
	}
	comp, err := s.Engine.Version(ctx, row.ProgramVersionID)
	if err != nil {
		return nil, err
	}
	var out []manageCommand
	for _, c := range comp.Program.Commands {
		if c.Switch == "" || c.Switch == row.Track || len(c.Match) == 0 {
			continue
		}
		w := c.Match[0]
		button := c.Label
		if button == "" {
			button = capitalized(w)
		}
		out = append(out, manageCommand{Word: w, Button: button, Reply: strings.ToUpper(w), Track: c.Switch})
	}
	return out, nil
}

func (s *server) managePage(w http.ResponseWriter, r *http.Request) {
	subj, ok := s.verify(w, r, token.Manage)
	if !ok {
		return
	}
	id, ok := manageSubject(subj)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "This link isn't valid", "It doesn't name a subscription.")
		return
	}
	live, err := s.Engine.Store.LiveEnrollments(r.Context(), id)
	if err != nil {
		s.oops(w, r, err)
		return
	}
	progs := s.Engine.Programs()
	var items []manageItem
	for _, e := range live {
		title := e.Program
		if p := progs[e.Program]; p != nil && p.Title != "" {
			title = p.Title
		}
		item := manageItem{ID: e.ID, Title: title, Status: e.Status}
		if e.Status == "active" || e.Status == "paused" {
			if item.Commands, err = s.commandsFor(r.Context(), e.ID); err != nil {
				s.oops(w, r, err)
				return
			}
		}
		if e.Status == "paused" {
			item.ResumesOn = pauseEnds(e)
		}
		items = append(items, item)
	}
	notice := map[string]string{"paused": "Your program is paused.", "resumed": "Welcome back, your program has resumed.", "left": "You've left the program.",
		"switched":  "Thank you for telling us. Your program has changed course: your next lessons are the new ones.",
		"unchanged": "Nothing changed: the program was already like that, or hasn't started yet. Here is where things stand."}[r.URL.Query().Get("done")]
	s.render(w, http.StatusOK, "manage", map[string]any{"Title": "Manage your program", "Items": items, "Notice": notice})
}

func (s *server) manage(w http.ResponseWriter, r *http.Request) {
	subj, ok := s.verify(w, r, token.Manage)
	if !ok {
		return
	}
	subID, ok := manageSubject(subj)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "This link isn't valid", "It doesn't name a subscription.")
		return
	}
	ctx := r.Context()
	eid, _ := strconv.ParseInt(r.PostFormValue("enrollment"), 10, 64)
	live, err := s.Engine.Store.LiveEnrollments(ctx, subID)
	if err != nil {
		s.oops(w, r, err)
		return
	}
	found := false
	for _, e := range live {
		found = found || e.ID == eid
	}
	if !found {
		s.fail(w, r, http.StatusNotFound, "We couldn't find that program", "It may already have ended. Reload the page to see where things stand.")
		return
	}
	var done string
	var changed bool
	switch r.PostFormValue("action") {
	case "pause":
		done = "paused"
		changed, err = s.Engine.Pause(ctx, eid, nil)
	case "resume":
		done = "resumed"
		changed, err = s.Engine.Resume(ctx, eid)
	case "leave":
		done = "left"
		changed, err = s.Engine.Unenroll(ctx, eid, "left from the manage page")
	case "command":
		// Only a command the page offers (one that switches track, and
		// would switch it now) is run: another, such as one that sends a
		// message, would act while the page said nothing changed.
		done = "switched"
		var offered []manageCommand
		if offered, err = s.commandsFor(ctx, eid); err != nil {
			break
		}
		word := r.PostFormValue("command")
		if slices.ContainsFunc(offered, func(c manageCommand) bool { return c.Word == word }) {
			var acts []string
			acts, changed, err = s.Engine.ApplyCommand(ctx, eid, word)
			changed = changed && scheduler.SwitchedTo(acts) != ""
		}
	default:
		s.fail(w, r, http.StatusBadRequest, "Please choose what to do", "Go back and press pause, resume or leave.")
		return
	}
	if err != nil {
		s.oops(w, r, err)
		return
	}
	if !changed { // already paused, not started yet, or ended meanwhile
		done = "unchanged"
	}
	http.Redirect(w, r, r.URL.Path+"?done="+done, http.StatusSeeOther)
}
