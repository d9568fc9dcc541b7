"""What the HTTP skins (pages and JSON API) share below their routes: the status and headers of
each error, and the ASGI middleware that guards every request (body size, `Allow` on 405, the
courier hand-off after the response)."""
