package channel

import (
	"fmt"
	"log/slog"
	"mime"
	netmail "net/mail"
	"strings"

	"github.com/wneessen/go-mail"

	"github.com/rekindle/rekindle/logging"
)

// composer turns a Message into the exact MIME message rekindle sends. The
// SMTP channel and the file channel share it, so an outbox .eml holds the
// same headers a real send would.
type composer struct {
	name    string // the channel's name, prefixed to errors
	from    *netmail.Address
	replyTo *netmail.Address
	domain  string // of From: names Message-IDs
	log     *slog.Logger
}

// newComposer checks the sender addresses; errors name the field.
func newComposer(name, from, replyTo string, log *slog.Logger) (composer, error) {
	if from == "" {
		return composer{}, fmt.Errorf("From is required")
	}
	f, err := netmail.ParseAddress(from)
	if err != nil {
		return composer{}, fmt.Errorf("From %q: %w", from, err)
	}
	at := strings.LastIndexByte(f.Address, '@')
	if at < 1 || at == len(f.Address)-1 {
		return composer{}, fmt.Errorf("From %q has no domain", from)
	}
	c := composer{name: name, from: f, domain: strings.ToLower(f.Address[at+1:]), log: log}
	if replyTo != "" {
		if c.replyTo, err = netmail.ParseAddress(replyTo); err != nil {
			return composer{}, fmt.Errorf("ReplyTo %q: %w", replyTo, err)
		}
	}
	return c, nil
}

// build turns a Message into a go-mail Msg and its Message-ID. Its errors
// are classified.
func (c composer) build(m Message) (*mail.Msg, string, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(c.from)
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return nil, "", permanentAddress("invalid-address",
			redact(err, c.name+": recipient: ", m.To, logging.MaskEmail(m.To)))
	}
	if c.replyTo != nil {
		msg.ReplyToMailAddress(c.replyTo)
	}
	msg.Subject(m.Subject)
	id := SMTPMessageID(m.DeliveryID, c.domain)
	msg.SetMessageIDWithValue(strings.Trim(id, "<>"))
	msg.SetDate()

	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(mail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
	}

	// List headers are set preformatted: go-mail writes them verbatim, on one
	// line (SetGenHeader would fold them at any space past column 76, and
	// MIME-encode a non-ASCII List-Id whole, brackets included).
	var unsub []string
	oneClick := false
	if u := m.UnsubscribeURL; u != "" {
		if headerURI(u) && (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
			unsub = append(unsub, "<"+u+">")
			oneClick = strings.HasPrefix(u, "https://") // RFC 8058 3.1: HTTPS only
		} else {
			c.log.Warn("unusable UnsubscribeURL left out", "delivery", m.DeliveryID)
		}
	}
	if u := m.UnsubscribeMailto; u != "" {
		if !strings.HasPrefix(strings.ToLower(u), "mailto:") {
			u = "mailto:" + u
		}
		if headerURI(u) {
			unsub = append(unsub, "<"+u+">")
		} else {
			c.log.Warn("unusable UnsubscribeMailto left out", "delivery", m.DeliveryID)
		}
	}
	if len(unsub) > 0 {
		msg.SetGenHeaderPreformatted(mail.HeaderListUnsubscribe, foldList(len("List-Unsubscribe: "), unsub))
		if oneClick {
			msg.SetGenHeaderPreformatted(mail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
		}
	}
	if m.ListID != "" {
		if v, ok := listID(m.ListID); ok {
			msg.SetGenHeaderPreformatted("List-Id", v)
		} else {
			c.log.Warn("unusable ListID left out", "delivery", m.DeliveryID)
		}
	}
	return msg, id, nil
}

// headerURI reports whether u can go between angle brackets in a header:
// printable ASCII without spaces, brackets or commas.
func headerURI(u string) bool {
	for i := 0; i < len(u); i++ {
		b := u[i]
		if b <= ' ' || b >= 0x7f || b == '<' || b == '>' || b == ',' {
			return false
		}
	}
	return len(u) > len("mailto:")
}

// foldList joins header list items with ", ". The result stays on one line
// unless that line would pass RFC 5322's 998 characters; then it is folded
// only after a comma, as ",\r\n " (folding white space, so unfolding gives
// back exactly ", " and a DKIM signature made over the written bytes holds).
func foldList(nameLen int, items []string) string {
	one := strings.Join(items, ", ")
	if nameLen+len(one) <= maxHeaderLine {
		return one
	}
	return strings.Join(items, ",\r\n ")
}

// listID checks and formats a List-Id value, "Phrase <list.id.domain>" or
// "<list.id.domain>" (RFC 2919); a non-ASCII phrase is encoded alone.
func listID(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, "\r\n") {
		return "", false
	}
	lt := strings.LastIndexByte(v, '<')
	if lt < 0 || !strings.HasSuffix(v, ">") {
		if !headerURI(v) {
			return "", false
		}
		return "<" + v + ">", true
	}
	id := v[lt+1 : len(v)-1]
	if !headerURI(id) {
		return "", false
	}
	phrase := strings.TrimSpace(v[:lt])
	if phrase == "" {
		return "<" + id + ">", true
	}
	return mime.QEncoding.Encode("utf-8", phrase) + " <" + id + ">", true
}
