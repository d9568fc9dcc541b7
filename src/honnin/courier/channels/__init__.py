"""Ways out: one interface, one module per kind of relay or provider."""

from honnin.courier.channels.base import Channel, Outcome, Outgoing, Result

__all__ = ["Channel", "Outcome", "Outgoing", "Result"]
