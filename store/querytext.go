package store

// QueryText returns the SQL of a named statement ("" when there is none),
// for tests that EXPLAIN what the engine runs.
func (s *Store) QueryText(name string) string { return s.text[name] }
