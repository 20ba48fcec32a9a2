package web

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
)

// CTIA opt-out and opt-in words (whole message, any case).
var (
	stopWords  = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	startWords = []string{"START", "UNSTOP"}
	helpWords  = []string{"HELP", "INFO"}
	pauseRe    = regexp.MustCompile(`^PAUSE(?:\s+(?:FOR\s+)?(\d{1,3})(?:\s*(?:DAYS?|D))?)?$`)
	// pauseLikeRe is PAUSE with a length pauseRe does not take ("PAUSE
	// 1000 DAYS", "PAUSE 2 WEEKS"): the person asked for a pause, so they
	// are told what was not done and what is taken, not thanked for writing.
	pauseLikeRe = regexp.MustCompile(`^PAUSE\s`)
)

// badPauseReply answers pauseLikeRe. 999 is pauseRe's three digits, as
// `rekindle pause --days` takes (cli maxPauseDays).
const badPauseReply = "Nothing has changed. A pause can be 1 to 999 days: reply PAUSE 14 for two weeks, for example, or just PAUSE to pause until you reply RESUME."

// hintReply answers a text we could not read while a check-in waits for an
// answer whose choices cannot be told (answerHint names them when it can).
const hintReply = "Sorry, we didn't catch that. You can reply PAUSE to take a break, STOP to opt out, or HELP for help."

// writtenReply answers free text when no check-in waits for an answer. Most
// such texts answer a lesson's reflective question ("What's one thing you'd
// change?"), so the person is thanked rather than told they were not
// understood, told truly that the daemon only reads keywords and answers
// (the questions are theirs to think over), and given the words that work,
// STOP in the words the texts' own hint uses (render.StopHint).
// It is one GSM-7 segment (web/sms_written_reply_test.go).
const writtenReply = "Thanks for writing. This number can't read written replies; the questions are for you to think over. Reply PAUSE for a break, HELP for help, STOP to opt out."

// twilioSMS handles an inbound text.
func (s *server) twilioSMS(w http.ResponseWriter, r *http.Request) {
	params, _, ok := s.twilioParams(w, r)
	if !ok {
		return
	}
	sid, from, body := params["MessageSid"], params["From"], params["Body"]
	if sid == "" || from == "" {
		http.Error(w, "MessageSid and From are required", http.StatusBadRequest)
		return
	}
	if len(sid) > 64 || len(from) > 64 { // both are unique-index keys
		http.Error(w, "MessageSid and From must be at most 64 characters", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	now := s.now()
	claim, err := s.Engine.Store.ClaimInbound(ctx, now, now.Add(-inboundAbandonedAfter), sid, "sms", from, body)
	if err != nil {
		s.Log.Error("web: inbound sms", "sid", sid, "err", err)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	switch claim {
	case store.InboundDone: // Twilio's retry of a message already handled
		twiml(w, "")
		return
	case store.InboundBusy:
		w.Header().Set("Retry-After", "10")
		http.Error(w, "this message is being handled; try again shortly", http.StatusServiceUnavailable)
		return
	}
	reply, result, err := s.handleSMS(ctx, from, body, strings.ToUpper(strings.TrimSpace(params["OptOutType"])))
	// The outcome is recorded even when Twilio has hung up meanwhile: the
	// work is done (or undone) either way, and the next retry must know.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err != nil {
		// Twilio does not retry a messaging webhook unless its URL asks
		// for it (#rc=, #rp=), so the person is told to send it again.
		// The message is released, not marked done, so that a retry
		// with the same MessageSid (or an operator's replay) handles it
		// instead of skipping it as a duplicate.
		s.Log.Error("web: inbound sms", "sid", sid, "err", err)
		if ferr := s.Engine.Store.FailInbound(rctx, sid, err); ferr != nil {
			s.Log.Error("web: inbound sms: release for retry", "sid", sid, "err", ferr)
		}
		twiml(w, failedReply)
		return
	}
	if held, err := s.Engine.Store.SetInboundResult(rctx, sid, result); err != nil {
		s.Log.Error("web: inbound sms result", "sid", sid, "err", err)
	} else if !held {
		s.Log.Warn("web: inbound sms was taken over by another attempt while this one handled it", "sid", sid)
	}
	twiml(w, reply)
}

// failedReply answers a text rekindle could not take in.
const failedReply = "Sorry, something went wrong on our side and we couldn't take that in. Please send it again in a few minutes."

// inboundAbandonedAfter is how long an inbound message may stay claimed by
// an attempt before a retry takes it over: far longer than Twilio waits for
// an answer (15 s), so only a process that died mid-way leaves one that old.
const inboundAbandonedAfter = 2 * time.Minute

// handleSMS decides what a text means and does it. It returns the reply and
// a short note of what happened.
func (s *server) handleSMS(ctx context.Context, from, body, optOutType string) (reply, result string, err error) {
	text := strings.TrimSpace(body)
	word := replyWord(body, optOutType)
	sub, ferr := s.Engine.Store.FindSubscriber(ctx, nil, "", from)
	known := ferr == nil
	if ferr != nil && !errors.Is(ferr, store.ErrNotFound) {
		return "", "", ferr
	}
	// With Twilio Advanced Opt-Out, Twilio has already replied.
	quiet := func(s string) string {
		if optOutType != "" {
			return ""
		}
		return s
	}
	suppressed, err := s.Engine.Store.SuppressedChannels(ctx, "", from)
	if err != nil {
		return "", "", err
	}
	optedOut := contains(suppressed, "sms") || known && sub.SMSStatus == "revoked"
	// YES is one of Twilio's opt-in words: from a number that texted STOP it
	// means START, which Twilio has just acted on, and we follow.
	if word == "YES" && contains(suppressed, "sms") {
		word = "START"
	}
	switch {
	case contains(stopWords, word):
		if !known {
			// Not a subscriber, but the number still must not be texted.
			err := s.Engine.Store.Suppress(ctx, s.now(), []store.Suppression{{Channel: "sms", Address: from, Reason: "unsubscribed", Source: "sms"}})
			return quiet("You're unsubscribed and won't get any more texts from us. Reply START to resubscribe."), "stop (unknown number)", err
		}
		if err := s.Engine.OptOut(ctx, sub, "sms", "sms", "", ""); err != nil {
			return "", "", err
		}
		msg := "You're unsubscribed from " + s.brand(ctx, sub.ID) + " texts and won't get any more. Reply START to resubscribe."
		if stillGets(sub, "sms") {
			msg += " Your email lessons continue; every email has an unsubscribe link."
		}
		return quiet(msg), "stop", nil
	case contains(startWords, word):
		if !known {
			err := s.Engine.Store.InTx(ctx, func(tx *sqlx.Tx) error { return s.Engine.Store.Unsuppress(ctx, tx, "sms", from) })
			return quiet("You're resubscribed to texts. Reply HELP for help, STOP to opt out."), "start (unknown number)", err
		}
		if err := s.optIn(ctx, sub, "sms", "sms", body); err != nil {
			return "", "", err
		}
		live, err := s.Engine.Store.LiveEnrollments(ctx, sub.ID)
		if err != nil {
			return "", "", err
		}
		if len(live) == 0 {
			// Their program ended when they opted out of their only
			// channel. Twilio's own reply (Advanced Opt-Out) says they are
			// resubscribed, so this one is sent whatever it says: without
			// it they would wait for texts that never come.
			return s.rejoinText(), "start (no program running)", nil
		}
		return quiet("You're resubscribed to " + s.brand(ctx, sub.ID) + " texts. Msg & data rates may apply. Reply HELP for help, STOP to opt out."), "start", nil
	case contains(helpWords, word):
		return quiet(s.helpText(ctx, sub, known, optedOut)), "help", nil
	}
	if optedOut {
		// After STOP a number hears nothing more from us but the answers
		// to its keywords (carriers require it, and the person asked for
		// quiet); an ordinary text is not acted on either, as texts are
		// the channel they left.
		return "", "ignored: number opted out", nil
	}
	if !known {
		return "We don't have this number on file. Reply HELP for help or STOP to opt out.", "unknown number", nil
	}
	// YES also answers for a returning person's new sign-up, on a number
	// confirmed before (never on one that texted STOP: START re-opens it),
	// unless a check-in is waiting for its answer: then YES is that answer.
	// Y, which many people type for it, confirms as YES does (it is not one
	// of Twilio's opt-in words, so it lifts no opt-out above).
	if (word == "YES" || word == "Y") && s.yesConfirms(ctx, sub) {
		if err := s.confirmChannel(ctx, sub.ID, "sms", "sms", body, "", "", 0); err != nil {
			return "", "", err
		}
		return "Thanks, you're confirmed! Your texts from " + s.brand(ctx, sub.ID) + " start soon. Msg & data rates may apply. Reply HELP for help, STOP to opt out.", "sms confirmed", nil
	}
	if m := pauseRe.FindStringSubmatch(word); m != nil {
		var until *time.Time
		days := 0
		if m[1] != "" {
			days, _ = strconv.Atoi(m[1])
			if days > 0 {
				t := s.now().Add(time.Duration(days) * 24 * time.Hour)
				until = &t
			}
		}
		n, err := s.eachLive(ctx, sub.ID, "active", func(id int64) (bool, error) { return s.Engine.Pause(ctx, id, until) })
		if err != nil {
			return "", "", err
		}
		if n == 0 {
			if until, paused, err := s.pausedUntil(ctx, sub.ID); err != nil {
				return "", "", err
			} else if paused {
				// Already paused (for a few days, or until RESUME): say
				// so, and until when, rather than "nothing running".
				if until != "" {
					return "Your program is already paused until " + until + ". Reply RESUME whenever you're ready to continue.", "pause: already paused", nil
				}
				return "Your program is already paused. Reply RESUME whenever you're ready to continue.", "pause: already paused", nil
			}
			if s.yesConfirms(ctx, sub) {
				return "There's nothing to pause yet. Your sign-up waits for you to confirm it: reply YES to start, or STOP if you'd rather not.", "pause: sign-up waiting", nil
			}
			return "There's nothing running to pause right now.", "pause: nothing active", nil
		}
		if days > 0 {
			return "Paused for " + plural(days, "day") + ". We'll pick up where you left off; reply RESUME to come back sooner.", "paused", nil
		}
		return "Paused. Take the time you need; reply RESUME whenever you're ready to continue.", "paused", nil
	}
	if pauseLikeRe.MatchString(word) {
		return badPauseReply, "pause: length not understood", nil
	}
	if word == "RESUME" {
		n, err := s.eachLive(ctx, sub.ID, "paused", func(id int64) (bool, error) { return s.Engine.Resume(ctx, id) })
		if err != nil {
			return "", "", err
		}
		if n == 0 {
			// A sign-up waiting for YES is not "all set": say what
			// starts it.
			if s.yesConfirms(ctx, sub) {
				return "Nothing is paused. Your sign-up waits for you to confirm it: reply YES to start, or STOP if you'd rather not.", "resume: sign-up waiting", nil
			}
			return "Nothing is paused, so there's nothing to resume. You're all set.", "resume: nothing paused", nil
		}
		return "Welcome back! Your lessons pick up from where you left off.", "resumed", nil
	}
	// Program commands such as MOVED ON.
	live, err := s.Engine.Store.LiveEnrollments(ctx, sub.ID)
	if err != nil {
		return "", "", err
	}
	for _, e := range live {
		acts, ok, err := s.Engine.ApplyCommand(ctx, e.ID, text)
		if err != nil {
			return "", "", err
		}
		if ok {
			return commandReply(acts, e.Status == "paused"), "command: " + strings.Join(acts, ", "), nil
		}
	}
	// A program command no running program took: it is not a written
	// reply to a lesson, so it is answered by where the person stands. A
	// sign-up waiting for YES has nothing to change yet; a program that
	// has ended has nothing left to change. (A running program whose
	// version lacks the command goes on below, as any other text.)
	if isProgramCommand(s.Engine.Programs(), text) && !anyRunning(live) {
		if s.yesConfirms(ctx, sub) {
			return "Thank you for telling us. Your program hasn't started yet: reply YES to start it, then send " + word + " again and we'll change its course to fit.", "command: sign-up waiting", nil
		}
		return "Thank you for telling us. Your program has already ended, so there's nothing left for us to change, and no more lessons will come. We wish you well.", "command: program ended", nil
	}
	res, err := s.Engine.RecordAnswer(ctx, scheduler.AnswerInput{SubscriberID: sub.ID, Text: text, Source: "sms"})
	// YES again from a confirmed number that no check-in asks (the
	// confirmation text came twice, or was answered twice) is not a
	// written reply to a lesson: say it is already done.
	againYes := (word == "YES" || word == "Y") && sub.SMSStatus == "confirmed"
	switch {
	case againYes && (errors.Is(err, scheduler.ErrNoOpenCheckin) || errors.Is(err, scheduler.ErrUnrecognized) && !s.checkinWaiting(ctx, sub.ID)):
		return "You're already confirmed, so there's nothing more to do. Reply HELP for help or STOP to opt out.", "yes: already confirmed", nil
	case errors.Is(err, scheduler.ErrUnrecognized) && !s.checkinWaiting(ctx, sub.ID):
		// The latest check-in is answered or closed: the text is not an
		// attempt at it, most likely a reply to a lesson's question.
		return writtenReply, "unrecognized: no check-in waiting", nil
	case errors.Is(err, scheduler.ErrUnrecognized):
		return s.answerHint(ctx, sub.ID), "unrecognized", nil
	case errors.Is(err, scheduler.ErrNoOpenCheckin):
		return writtenReply, "unrecognized: no check-in waiting", nil
	case errors.Is(err, scheduler.ErrAnswerWindowEnd):
		// No promise of another check-in: this one may not be asked
		// again (a "ready" answer ends it) and the program may have none
		// left.
		return "Thanks! That check-in has closed, so we've kept the answer you gave before.", "answer window closed", nil
	case err != nil:
		return "", "", err
	}
	if res.Updated {
		// Only the first answer steers the program (RecordAnswer): the new
		// one is stored, and a later check-in's streak counts it, but what
		// the first one changed stays. Saying "updated" alone let people
		// think the program would now follow the new answer.
		return "Thanks, we've noted your new answer. Any change your first answer made to your program stays as it is.", "answer updated: " + res.Value, nil
	}
	if res.Late {
		// Kept, and nothing changes; it promises no next message either,
		// as the check-in may be a completed program's last.
		return "Thanks for letting us know. That check-in had already closed, so we've kept your answer, but it won't change what we send you.", "late answer: " + res.Value, nil
	}
	if track := scheduler.SwitchedTo(res.Actions); track != "" {
		// As the email page: the lessons that come next are not the
		// ones the person was expecting.
		return "Thanks for letting us know. Your program now changes course to fit: your next lessons are the " + track + " ones. Go gently.", "answer: " + res.Value, nil
	}
	if days := scheduler.ExtendedBy(res.Actions); days > 0 && res.Enrollment == "active" && stillGets(sub, "sms") {
		// "Not yet" held the next phase. The program's note about it goes
		// by email to someone who has email (by text to someone who
		// has only texts, where it says this itself): the reply says the
		// gist, so a text answer is not met with thanks alone.
		return "Thanks for letting us know. We'll hold the next phase for " + plural(days, "more day") + " and ask how you feel again then. Take the time you need.", "answer: " + res.Value, nil
	}
	if scheduler.ExtendLimitReached(res.Actions) && res.Enrollment == "active" && stillGets(sub, "sms") {
		// A "not yet" with no extra time left: the program's note saying
		// the next phase goes ahead goes by email to someone who has
		// email, so the text reply says the gist and how to take a break.
		return "Thank you for telling us. The extra time the program can give has been used, so the next phase goes ahead. Take it at your own pace, or reply PAUSE for a break.", "answer: " + res.Value, nil
	}
	return "Thanks for letting us know.", "answer: " + res.Value, nil
}

// pausedUntil reports whether one of the person's programs is paused and,
// for a timed pause, the day it ends in their own time zone ("Tuesday 15
// December", as the manage page says it), or "" for a pause until RESUME.
func (s *server) pausedUntil(ctx context.Context, subscriberID int64) (until string, paused bool, err error) {
	live, err := s.Engine.Store.LiveEnrollments(ctx, subscriberID)
	if err != nil {
		return "", false, err
	}
	for _, e := range live {
		if e.Status != "paused" {
			continue
		}
		if e.PausedUntil == nil {
			return "", true, nil
		}
		until, paused = pauseEnds(e), true
	}
	return until, paused, nil
}

// pauseEnds is the day a timed pause ends, in the person's own time zone
// ("Tuesday 15 December"), or "" for a pause until RESUME.
func pauseEnds(e store.LiveEnrollment) string {
	if e.PausedUntil == nil {
		return ""
	}
	loc, err := scheduler.LoadZone(e.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return e.PausedUntil.In(loc).Format("Monday 2 January")
}

// commandReply answers a program command (MOVED ON) by what it did: a
// switch of track names the lessons that come next (and, while paused,
// that they wait for RESUME); a command that found the program already
// there says nothing changed, rather than claim an adjustment. Each is at
// most two GSM-7 segments (web/sms_command_reply_test.go).
func commandReply(acts []string, paused bool) string {
	if len(acts) == 0 {
		return "Thanks for telling us. Your program already fits that, so nothing has changed."
	}
	if track := scheduler.SwitchedTo(acts); track != "" {
		msg := "Thank you for telling us. Your program now changes course to fit: your next lessons are the " + track + " ones."
		if paused {
			return msg + " Your program is paused, so they wait until you reply RESUME."
		}
		return msg + " Go gently."
	}
	return "Got it, thank you for telling us. We've adjusted your program to fit."
}

// isProgramCommand reports whether text is one of a program's commands
// (MOVED ON), in any program served.
func isProgramCommand(progs map[string]*programs.Program, text string) bool {
	for _, p := range progs {
		if _, ok := scheduler.FindCommand(p, text); ok {
			return true
		}
	}
	return false
}

// anyRunning reports whether one of live is running (active or paused).
func anyRunning(live []store.LiveEnrollment) bool {
	for _, e := range live {
		if e.Status == "active" || e.Status == "paused" {
			return true
		}
	}
	return false
}

// answerHint answers a text that is not one of the answers of the person's
// latest check-in: it names that check-in's answers as they can be texted
// ("1, 2 or 3" for the readiness question, "a number from 1 to 5" for the
// mood), not a range some other check-in has.
func (s *server) answerHint(ctx context.Context, subscriberID int64) string {
	replies := s.checkinReplies(ctx, subscriberID)
	if replies == "" {
		return hintReply
	}
	return "Sorry, we didn't catch that. To answer the check-in, reply " + replies + ". You can also reply PAUSE to take a break, STOP to opt out, or HELP for help."
}

// checkinReplies is how the answers of the person's latest check-in can be
// texted, or "" when that cannot be told.
func (s *server) checkinReplies(ctx context.Context, subscriberID int64) string {
	c, err := s.Engine.Store.OpenCheckin(ctx, subscriberID, s.now())
	if err != nil {
		return ""
	}
	vid, err := s.Engine.Store.EnrollmentVersion(ctx, c.EnrollmentID)
	if err != nil {
		return ""
	}
	comp, err := s.Engine.Version(ctx, vid)
	if err != nil {
		return ""
	}
	step := comp.Program.Step(c.StepKey)
	if step == nil || step.Checkin == nil || len(step.Checkin.Answers) == 0 {
		return ""
	}
	// Numbers when every answer has one (they are what the texts offer),
	// otherwise each answer's first word.
	var nums, words []string
	for _, a := range step.Checkin.Answers {
		m := a.MatchWords()
		words = append(words, strings.ToUpper(m[0]))
		for _, w := range m {
			if _, err := strconv.Atoi(w); err == nil {
				nums = append(nums, w)
				break
			}
		}
	}
	if len(nums) < len(step.Checkin.Answers) {
		return orList(words)
	}
	if len(nums) > 3 && consecutive(nums) {
		return "a number from " + nums[0] + " to " + nums[len(nums)-1]
	}
	return orList(nums)
}

// orList writes "A", "A or B", "A, B or C".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// consecutive reports whether numbers count up by one.
func consecutive(nums []string) bool {
	for i := 1; i < len(nums); i++ {
		a, _ := strconv.Atoi(nums[i-1])
		b, _ := strconv.Atoi(nums[i])
		if b != a+1 {
			return false
		}
	}
	return true
}

// eachLive runs fn on the person's enrollments with the given status and
// counts those it changed.
func (s *server) eachLive(ctx context.Context, subscriberID int64, status string, fn func(id int64) (bool, error)) (int, error) {
	live, err := s.Engine.Store.LiveEnrollments(ctx, subscriberID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range live {
		if e.Status != status {
			continue
		}
		ok, err := fn(e.ID)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// yesConfirms reports whether YES from the person confirms a sign-up: their
// number waits for it, or a new sign-up of a number confirmed before does
// and no check-in waits for YES as its answer.
func (s *server) yesConfirms(ctx context.Context, sub store.Subscriber) bool {
	return sub.SMSStatus == "pending" ||
		sub.SMSStatus == "confirmed" && s.waitsForConfirmation(ctx, sub.ID) && !s.checkinWaiting(ctx, sub.ID)
}

// waitsForConfirmation reports whether one of the person's enrollments
// waits for them to confirm it.
func (s *server) waitsForConfirmation(ctx context.Context, subscriberID int64) bool {
	n, err := s.eachLive(ctx, subscriberID, "pending", func(int64) (bool, error) { return true, nil })
	return err == nil && n > 0
}

// checkinWaiting reports whether a check-in sent to the person is open and
// unanswered. When the database cannot tell, it says yes: the reply then
// goes to the check-in path, which answers for itself.
func (s *server) checkinWaiting(ctx context.Context, subscriberID int64) bool {
	c, err := s.Engine.Store.OpenCheckin(ctx, subscriberID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	return err != nil || c.Answer == "" && c.ClosesAt.After(s.now())
}

// brand is the title of the person's (first) live program, or "Rekindle".
func (s *server) brand(ctx context.Context, subscriberID int64) string {
	if p := s.firstProgram(ctx, subscriberID); p != "" {
		if prog := s.Engine.Programs()[p]; prog != nil && prog.Title != "" {
			return prog.Title
		}
	}
	return "Rekindle"
}

func (s *server) firstProgram(ctx context.Context, subscriberID int64) string {
	if subscriberID == 0 {
		return ""
	}
	live, err := s.Engine.Store.LiveEnrollments(ctx, subscriberID)
	if err != nil || len(live) == 0 {
		return ""
	}
	return live[0].Program
}

// rejoinText answers START from someone with no program running.
func (s *server) rejoinText() string {
	msg := "You can get texts from us again. Your program ended when you opted out, so nothing more will come unless you sign up again"
	if progs := s.Engine.Programs(); len(progs) == 1 {
		for slug := range progs {
			return msg + ": " + s.BaseURL + "/subscribe/" + slug + " . Reply STOP to opt out."
		}
	}
	return msg + " on our website. Reply STOP to opt out."
}

// helpText is the HELP reply carriers ask for: the program's name, how
// often it texts, where to get help, that rates may apply and how to stop.
// The words it offers fit where the number stands: PAUSE only with a
// program running to pause (RESUME when paused), YES while a sign-up waits
// for it, START after an opt-out (when PAUSE would be ignored).
func (s *server) helpText(ctx context.Context, sub store.Subscriber, known, optedOut bool) string {
	title, freq := "Rekindle", ""
	if known {
		if prog := s.Engine.Programs()[s.firstProgram(ctx, sub.ID)]; prog != nil {
			if prog.Title != "" {
				title = prog.Title
			}
			freq = prog.SMSFrequency
		}
	}
	// Texts carry short nudges from the lessons, not the lessons, as the
	// consent says.
	head, tail := title+": short coaching nudges and check-ins by text. ", ""
	if s.SupportContact != "" {
		tail += "Help: " + s.SupportContact + ". "
	}
	tail += "Msg & data rates may apply. "
	msg := head + sentence(smsFrequency(freq)) + " " + tail
	switch {
	case optedOut:
		return msg + "You've opted out of our texts, so we don't text you now. Reply START to get them again."
	case !known:
		return msg + "Reply STOP to opt out."
	case s.yesConfirms(ctx, sub):
		return msg + "Reply YES to confirm and start our texts, STOP to opt out."
	}
	live, err := s.Engine.Store.LiveEnrollments(ctx, sub.ID)
	if err != nil { // cannot tell: the usual words
		return msg + "Reply PAUSE for a break, STOP to opt out."
	}
	paused := false
	for _, e := range live {
		if e.Status == "active" {
			return msg + "Reply PAUSE for a break, STOP to opt out."
		}
		paused = paused || e.Status == "paused"
	}
	if paused {
		return msg + "Reply RESUME to continue, STOP to opt out."
	}
	if len(live) == 0 {
		// Their program has finished, or they left it: no texts come, so
		// none are promised a week.
		return head + tail + "Your program has ended, so we don't text you now. Reply STOP to opt out."
	}
	return msg + "Reply STOP to opt out." // nothing running to pause
}

// smsFrequency is how often a program texts, as a phrase to go inside a
// sentence ("usually 4 to 6 texts a week, at most 9"). A program that does
// not say gets a phrase that promises no number.
func smsFrequency(freq string) string {
	freq = strings.TrimRight(strings.TrimSpace(freq), ". ")
	if freq == "" {
		return "a few texts a week"
	}
	return freq
}

// sentence makes a phrase a sentence of its own: capital first letter and a
// full stop.
func sentence(phrase string) string {
	if phrase == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(phrase)
	return string(unicode.ToUpper(r)) + phrase[n:] + "."
}

// replyWord is the keyword a whole text is read as: upper case, single
// spaces, no "." or "!" around it ("  Stop! " is STOP). Twilio's own
// classification (OptOutType, with Advanced Opt-Out) wins, but for YES:
// Twilio counts YES as an opt-in word, and here it is also the answer to a
// confirmation or a check-in (handleSMS reads it as START from a number
// that opted out).
func replyWord(body, optOutType string) string {
	word := strings.ToUpper(scheduler.NormalizeReply(body))
	switch t := strings.ToUpper(strings.TrimSpace(optOutType)); t {
	case "STOP", "HELP":
		return t
	case "START":
		if word == "YES" {
			return word
		}
		return t
	}
	return word
}

// plural is a count and its noun, "1 day" or "3 days".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func contains(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

// twiml answers Twilio with an optional reply message.
func twiml(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response>`)
	if msg != "" {
		b.WriteString("<Message>")
		xml.EscapeText(&b, []byte(msg))
		b.WriteString("</Message>")
	}
	b.WriteString("</Response>")
	w.Write([]byte(b.String()))
}
