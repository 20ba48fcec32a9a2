package channel

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"
)

// NewLimiter is the limiter for a provider's configured rate, perSecond
// messages a second (REKINDLE_EMAIL_RATE, REKINDLE_SMS_RATE): the rate is
// the provider's limit (divided by the instances), so it must hold in every
// second, the first second of a wave of lessons included, when the limiter
// has sat idle and is full. Its burst is 10ms of messages, at least one: a
// second holds no more than the rate and 1% (with a burst of a second's
// messages, the first second of a wave held nearly twice the rate). More
// than one is needed only at rates in the hundreds and more, where a burst
// of 1 would make every send sleep less than the timer keeps, and the rate
// would not be reached (BenchmarkRateLimited).
func NewLimiter(perSecond float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond/100)))
}

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

// Limiter is the limiter every Send waits for: what a test of the
// configured rate and burst looks at.
func (r *rateLimited) Limiter() *rate.Limiter { return r.limiter }

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
