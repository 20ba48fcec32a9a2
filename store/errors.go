package store

import (
	"errors"

	"github.com/lib/pq"
)

func isUniqueViolation(err error) bool { return hasCode(err, "23505") }

// isInsufficientPrivilege: the user may not run the statement.
func isInsufficientPrivilege(err error) bool { return hasCode(err, "42501") }

// hasCode says whether err is a PostgreSQL error with this SQLSTATE.
func hasCode(err error, code pq.ErrorCode) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == code
}

// IsDataError says whether err is PostgreSQL refusing a value (SQLSTATE
// class 22: bad encoding, out of range, ...): the same statement fails the
// same way however often it is tried.
func IsDataError(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code.Class() == "22"
}
