"""What support staff need to see and do to an account, composed from the domain services
(accounts, proofs, sessions, …) above them all: no domain package depends on it."""
