"""Flows: sign-up, sign-in and "verify your identity" as server-side objects.

A flow has an id, a kind, a state and an expiry; the pages and the JSON API render its state
and post actions to it. Reloading, going back or a second tab never breaks a flow, because
nothing of it lives in the browser but its id.
"""
