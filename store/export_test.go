package store

// SetQueryText replaces the SQL of a statement the store runs as text (the
// advisory lock's), so that a test can make it fail.
func (s *Store) SetQueryText(name, q string) {
	if _, ok := s.text[name]; !ok {
		panic("store: no statement named " + name)
	}
	s.text[name] = q
}
