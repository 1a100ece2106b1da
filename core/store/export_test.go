package store

// GroupQueued reports how many RunInGroupTx callers wait for a group (0
// on PostgreSQL, which has no group commit).
func (s *Store) GroupQueued() int {
	if s.group == nil {
		return 0
	}
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue)
}
