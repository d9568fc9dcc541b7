"""The HTML pages: server-rendered, ja and en, working without JavaScript."""
