package channel

import "context"

// OnSent wraps ch so that fn hears of every message its senders hand over
// successfully, after the provider accepted it: the demo prints each one,
// the bench times it. fn runs on the sending worker, so it must be quick
// and safe for concurrent use, and like Send it must copy what it keeps of m.
func OnSent(ch Channel, fn func(Message)) Channel { return &onSent{Channel: ch, fn: fn} }

type onSent struct {
	Channel
	fn func(Message)
}

func (c *onSent) NewSender() (Sender, error) {
	s, err := c.Channel.NewSender()
	if err != nil {
		return nil, err
	}
	return &onSentSender{Sender: s, fn: c.fn}, nil
}

type onSentSender struct {
	Sender
	fn func(Message)
}

func (s *onSentSender) Send(ctx context.Context, m Message) (Result, error) {
	res, err := s.Sender.Send(ctx, m)
	if err == nil {
		s.fn(m)
	}
	return res, err
}
