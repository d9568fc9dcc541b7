"""Sessions: who is signed in, in which browser (several accounts at once) or for which app."""
