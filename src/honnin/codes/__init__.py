"""Security codes: the one engine every flow uses to send and check one-time codes."""
