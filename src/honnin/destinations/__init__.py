"""Where codes go: the kinds of destination (email addresses, phone numbers) and the channels
that reach them. Below the code engine and the courier, which mask destinations by channel;
`kinds` is the one place that knows each kind."""
