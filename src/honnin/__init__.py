"""honnin (本人確認): self-hosted account security with codes that arrive."""

__version__ = "0.1.0"
