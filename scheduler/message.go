package scheduler

import (
	"context"
	"fmt"
	"strings"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
	"github.com/rekindle/rekindle/store"
)

// message turns a claimed delivery into what the channel sends. A program
// step is rendered here, from the values its row keeps, through the pinned
// version's skeletons (render.Fast): the bodies never pass through the
// database. A row that carries bodies (a confirmation, a test, a step
// planned by an older release) goes out as written; a confirmation's
// program version is there for its quiet hours. Errors are classified like
// a provider's (channel.Error). An email's texts are rendered into
// *scratch and are valid until it is written again (render.AppendEmail).
func (e *Engine) message(ctx context.Context, del store.Delivery, scratch *[]byte) (channel.Message, error) {
	m := channel.Message{
		DeliveryID: del.ID, Channel: channel.Kind(del.Channel), Step: del.StepKey, Kind: del.Kind, Phase: del.Phase, To: del.To,
		Subject: del.Subject, Preheader: del.Preheader, Text: del.Text, HTML: del.HTML,
		UnsubscribeURL: del.UnsubscribeURL, UnsubscribeMailto: e.Cfg.Mailto, ListID: e.Cfg.ListID,
	}
	if del.ProgramVersionID == 0 || del.Text != "" || del.HTML != "" {
		return m, nil
	}
	f, err := e.fast(ctx, del.ProgramVersionID)
	if err != nil {
		// Most likely the database did not answer while the version was
		// loaded: try again later, like a provider that did not answer.
		return m, channel.Retryable("render", fmt.Errorf("render: %w", err))
	}
	p := f.Compiled().Program
	step := p.Step(StepOf(del.StepKey))
	if step == nil {
		return m, channel.Permanent("render", fmt.Errorf("render: program version %d has no step %q", del.ProgramVersionID, StepOf(del.StepKey)))
	}
	day := max(del.Day, 1)
	v := programs.Vars{ProgramTitle: p.Title, Day: day}
	// The email's eyebrow ("Rekindle · Healing · Week 2") places a message
	// on the program's calendar, and must be true where it is shown: the
	// week only on the first track (the calendar that has weeks to count,
	// not a track switched to later, whose program days run past its end),
	// the phase only on a track's calendar, and neither on a message sent
	// on demand (a branch's reply to an answer, which is not a step of any
	// week). Week 0 and no phase leave them out.
	switch t := p.Track(step.Track); {
	case t == nil || t.OnDemand:
	case len(p.Tracks) > 0 && t == &p.Tracks[0]:
		v.Week, v.Phase = (day-1)/7+1, p.PhaseTitle(del.Phase)
	default:
		v.Phase = p.PhaseTitle(del.Phase)
	}
	who := render.Personal{
		FirstName: del.FirstName, CheckinToken: del.CheckinToken,
		ManageURL:      e.Links.Manage(del.SubscriberID),
		UnsubscribeURL: e.Links.Unsubscribe(del.SubscriberID, del.Channel),
	}
	switch del.Channel {
	case "email":
		var r render.Email
		r, *scratch, err = f.AppendEmail((*scratch)[:0], step, v, who)
		if err != nil {
			return m, channel.Permanent("render", err) // the same template fails the same way again
		}
		m.Subject, m.Preheader, m.Text, m.HTML, m.UnsubscribeURL = r.Subject, r.Preheader, r.Text, r.HTML, who.UnsubscribeURL
	default:
		text, err := f.SMS(step, v, who, del.StopHint)
		if err != nil {
			return m, channel.Permanent("render", err)
		}
		m.Text = text
	}
	return m, nil
}

// StepOf is the program step a delivery's step key names: a repeating
// step's occurrence is "key@date", an asked-again check-in "key#n".
func StepOf(stepKey string) string {
	if i := strings.IndexAny(stepKey, "@#"); i >= 0 {
		return stepKey[:i]
	}
	return stepKey
}

// fast returns the skeleton renderer of a program version (see Version).
func (e *Engine) fast(ctx context.Context, id int64) (*render.Fast, error) {
	if _, err := e.Version(ctx, id); err != nil {
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.fastR[id], nil
}
