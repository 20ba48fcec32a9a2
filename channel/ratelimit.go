package channel

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"
)

// NewRateLimited wraps ch so that every Send of every Sender it makes first
// waits for limiter (limiter.Wait(ctx)): all the channel's workers together
// stay within the limiter's rate and burst. A nil limiter returns ch as is.
//
// When ctx ends before a token is available (or limiter.Wait sees it would
// end first), Send returns a retryable error with code "ratelimit" without
// calling the wrapped sender.
func NewRateLimited(ch Channel, limiter *rate.Limiter) Channel {
	if limiter == nil {
		return ch
	}
	return &rateLimited{Channel: ch, limiter: limiter}
}

type rateLimited struct {
	Channel
	limiter *rate.Limiter
}

func (r *rateLimited) NewSender() (Sender, error) {
	s, err := r.Channel.NewSender()
	if err != nil {
		return nil, err
	}
	return &rateLimitedSender{Sender: s, limiter: r.limiter}, nil
}

type rateLimitedSender struct {
	Sender
	limiter *rate.Limiter
}

func (s *rateLimitedSender) Send(ctx context.Context, m Message) (Result, error) {
	if err := s.limiter.Wait(ctx); err != nil {
		return Result{}, Retryable("ratelimit", fmt.Errorf("ratelimit: wait: %w", err))
	}
	return s.Sender.Send(ctx, m)
}
