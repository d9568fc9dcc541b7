"""What passkeys add to every sign-in: a new flow gets a challenge, and its page (or its JSON
state) the options `navigator.credentials.get()` is given — generated and serialised by
py_webauthn. Registration's options are made once per passkey added.

    .venv/bin/python bench/passkey_options.py [--runs 20000]

It prints the CPU time of this thread per operation (`time.thread_time`, so other load on the
machine moves the figures little), to compare with a whole sign-in (bench/http_floor.py).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from typing import Any

from honnin.authenticators.passkeys import (
    RelyingParty,
    creation_options,
    new_challenge,
    request_options,
)


def per_call(work: Callable[[], Any], runs: int) -> float:
    """CPU seconds per call, the best of three rounds."""
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        for _ in range(runs):
            work()
        best = min(best, (time.thread_time() - started) / runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20_000)
    runs = parser.parse_args().runs
    rp = RelyingParty.of("http://localhost:8000", "", "Example")
    challenge = new_challenge()
    user = uuid.uuid4().bytes
    figures = {
        "a flow's challenge": per_call(new_challenge, runs),
        "sign-in options (get)": per_call(lambda: request_options(rp, challenge=challenge), runs),
        "registration options (create)": per_call(
            lambda: creation_options(
                rp, challenge=challenge, user_id=user, user_name="emma@example.com", existing=[]
            ),
            runs,
        ),
    }
    print(f"CPU of this thread per call ({runs} calls, best of 3):")
    for name, seconds in figures.items():
        print(f"  {name:<32} {seconds * 1e6:7.1f} µs")


if __name__ == "__main__":
    main()
