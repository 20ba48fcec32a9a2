package channel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
)

// Null is a channel that accepts every message, sends it nowhere and counts
// it: for benchmarks of everything in front of a provider. It is safe for
// concurrent use.
type Null struct {
	kind    Kind
	sent    atomic.Int64
	senders atomic.Int64 // opened and not yet closed
}

// NewNull returns a null channel of the given kind.
func NewNull(kind Kind) *Null { return &Null{kind: kind} }

// Kind is the kind given to NewNull.
func (n *Null) Kind() Kind { return n.kind }

// Name is "null".
func (n *Null) Name() string { return "null" }

// NewSender returns a sender that counts into n.
func (n *Null) NewSender() (Sender, error) {
	n.senders.Add(1)
	return &nullSender{n: n}, nil
}

// Sent returns how many messages were accepted.
func (n *Null) Sent() int64 { return n.sent.Load() }

// OpenSenders returns how many senders were made and not closed.
func (n *Null) OpenSenders() int64 { return n.senders.Load() }

type nullSender struct {
	n      *Null
	closed atomic.Bool
}

// Send accepts m unless ctx is done. ProviderID is "null-<delivery id>".
func (s *nullSender) Send(ctx context.Context, m Message) (Result, error) {
	if s.closed.Load() {
		return Result{}, errors.New("null: send on closed sender")
	}
	if err := ctx.Err(); err != nil {
		return Result{}, classifyNetErr(fmt.Errorf("null: send: %w", err))
	}
	s.n.sent.Add(1)
	return Result{ProviderID: "null-" + strconv.FormatInt(m.DeliveryID, 10), Detail: "discarded"}, nil
}

func (s *nullSender) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		s.n.senders.Add(-1)
	}
	return nil
}
