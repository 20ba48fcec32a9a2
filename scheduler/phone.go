package scheduler

import (
	"errors"

	"github.com/nyaruka/phonenumbers"
)

// ErrLandline is a fixed-line number: it cannot receive texts.
var ErrLandline = errors.New("a landline number, which cannot receive texts")

// ErrCannotText is a number of a kind that cannot receive texts from us:
// toll-free, premium rate, shared cost, pager, personal number, UAN,
// voicemail.
var ErrCannotText = errors.New("a number that cannot receive texts (toll-free, premium rate, pager or the like)")

// Textable says whether a valid number can take the program's texts, by its
// type: mobile, VoIP, and the numbers the library cannot tell from a mobile
// (FIXED_LINE_OR_MOBILE, as in the US, and UNKNOWN) can; a landline
// (ErrLandline) and the rest (ErrCannotText) cannot. A number that cannot
// take texts would never get its confirmation or lessons, so every way in
// (the sign-up form, rekindle enroll) refuses it while another can be given.
func Textable(num *phonenumbers.PhoneNumber) error {
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.VOIP, phonenumbers.UNKNOWN:
		return nil
	case phonenumbers.FIXED_LINE:
		return ErrLandline
	}
	return ErrCannotText
}
