"""The courier: a transactional outbox, the workers that empty it, and the channels they use."""
