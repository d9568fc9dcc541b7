"""Password rules (NIST SP 800-63B §3.1.1.2) and Argon2id hashing.

Length of at least 8, no composition rules, long passphrases welcome, and refusal of
passwords that are common or easy to guess (zxcvbn's dictionaries and patterns, with the
person's own sign-in name as a hint).

Argon2id costs what it costs (a few hundred milliseconds of CPU and 64 MiB, by design); the
rest of the service must not pay for it, and nothing but Argon2 itself should be paid:

- every hash runs in a pool of its own, never on the event loop: just enough threads to keep
  the cores busy (each hash runs 4 threads of its own), so that a storm of sign-ins queues
  instead of thrashing memory, and never takes the threads of the loop's default executor
  (name lookups, `asyncio.to_thread`);
- those threads run at a lower CPU priority (Linux), so that code checks, sends and pages keep
  their latency while hashes use whatever CPU is left;
- each of them hashes in a 64 MiB area of its own, mapped once, instead of memory that
  libargon2 would allocate per hash: fresh pages cost 16 384 page faults and their zeroing,
  about a third of a hash's CPU.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import logging
import mmap
import os
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from _argon2_cffi_bindings import lib  # type: ignore[import-untyped]
from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import (
    HashingError,
    InvalidHashError,
    VerificationError,
    VerifyMismatchError,
)
from argon2.low_level import core, error_to_str, ffi, hash_secret_raw
from argon2.profiles import RFC_9106_LOW_MEMORY
from zxcvbn import zxcvbn

from honnin.accounts.common import comparable, is_common
from honnin.errors import InvalidInput
from honnin.i18n import _

MIN_LENGTH = 8  # with a second factor (NIST SP 800-63B-4 §3.1.1.2)
MIN_LENGTH_ALONE = 15  # when the password alone signs in (two-step verification off)
MAX_LENGTH = 256
_SCORED_PREFIX = 100  # zxcvbn is slow on very long input; the first 100 characters decide
_MIN_SCORE = 2

# Argon2id, RFC 9106's second recommendation (t=3, m=64 MiB, p=4): argon2-cffi's defaults,
# pinned so that a new release of the library cannot change them unseen. Above OWASP's
# minimum for Argon2id (m=19 MiB, t=2, p=1).
PARAMETERS = RFC_9106_LOW_MEMORY

log = logging.getLogger("honnin.passwords")


class WeakPassword(InvalidInput):
    code = "weak_password"


def check_strength(
    password: str, user_inputs: Iterable[str] = (), *, only_factor: bool = True
) -> int:
    """Raise `WeakPassword` with the reason a person can act on, or return zxcvbn's score (2 to
    4): too short or too long, built from the account's own names, one of the 100,000 most
    common passwords (`honnin.accounts.common`), or easy to guess by zxcvbn's patterns.

    `only_factor`: the password alone will sign in (two-step verification off, as for a new
    account): at least 15 characters, else 8."""
    shortest = MIN_LENGTH_ALONE if only_factor else MIN_LENGTH
    if len(password) < shortest:
        raise WeakPassword(
            _("Use at least {length} characters for your password.", length=shortest)
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            _("Use at most {length} characters for your password.", length=MAX_LENGTH)
        )
    hints = [part for value in user_inputs for part in (value, value.partition("@")[0]) if part]
    lowered = comparable(password)
    if any(len(h) >= 4 and comparable(h) in lowered for h in hints):
        raise WeakPassword(_("Don't use your email address or name in your password."))
    if is_common(password):
        raise WeakPassword(
            _(
                "This password is one of the most common ones, which attackers try first. "
                "Choose another: for example a few unrelated words."
            )
        )
    score = int(zxcvbn(password[:_SCORED_PREFIX], user_inputs=hints)["score"])
    if score < _MIN_SCORE:
        raise WeakPassword(
            _(
                "This password is too common or too easy to guess. Try a longer one, "
                "for example a few unrelated words."
            )
        )
    return score


# --- where hashes run -------------------------------------------------------------------------


def usable_cores() -> int:
    """The cores this process may run on (its affinity, e.g. a container's cpuset)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _lower_priority() -> None:
    """Make the calling thread (and the threads Argon2 starts from it) yield the CPU to the
    event loop. Only on Linux, where niceness belongs to a thread: elsewhere the call would
    renice the whole process."""
    if sys.platform == "linux":
        thread = threading.get_native_id()
        try:
            niceness = os.getpriority(os.PRIO_PROCESS, thread) + HASH_THREADS_NICE
            os.setpriority(os.PRIO_PROCESS, thread, min(19, niceness))
        except OSError:  # pragma: no cover - a sandbox that forbids it: hash at normal priority
            pass


def hash_threads(cores: int, lanes: int) -> int:
    """How many hashes a process runs at once. Each already runs `lanes` threads (Argon2's
    parallelism: 4), so a few of them keep every core busy; more would not hash faster, only
    hold 64 MiB each while they wait for a core, and take CPU from the event loop."""
    return max(1, -(-cores // lanes))


HASH_THREADS = hash_threads(usable_cores(), PARAMETERS.parallelism)
HASH_THREADS_NICE = 10  # added to the hashing threads' niceness: other work goes first

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """The hashing pool, made on first use (after uvicorn has started its worker processes)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=HASH_THREADS,
                thread_name_prefix="honnin-argon2",
                initializer=_lower_priority,
            )
        return _pool


T = TypeVar("T")


async def _off_loop(work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_executor(), work)


# --- Argon2id in a reused area ---------------------------------------------------------------
#
# Through argon2-cffi's documented low-level binding (`core`, libargon2's `argon2_ctx`), whose
# context takes the callbacks that give libargon2 its memory. libargon2 wipes that memory after
# each hash, before it hands it back. The encoded hash is argon2-cffi's, byte for byte.

_areas = threading.local()  # each hashing thread's area: an anonymous private mapping


def _allocate(memory: Any, size: int) -> int:
    region: mmap.mmap | None = getattr(_areas, "region", None)
    if region is None or len(region) != size:
        region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        _areas.region, _areas.pointer = region, ffi.from_buffer(region)
    memory[0] = ffi.cast("uint8_t *", _areas.pointer)
    return int(lib.ARGON2_OK)


def _release(memory: Any, size: int) -> None:
    """The area stays the thread's; wiped, its pages may be taken back under memory pressure
    (and are simply written again if they were not)."""
    if hasattr(mmap, "MADV_FREE"):
        with contextlib.suppress(OSError):  # a kernel without it (before Linux 4.5)
            _areas.region.madvise(mmap.MADV_FREE)


_ALLOCATE = ffi.callback(
    "int(uint8_t **, size_t)", _allocate, error=lib.ARGON2_MEMORY_ALLOCATION_ERROR
)
_RELEASE = ffi.callback("void(uint8_t *, size_t)", _release)


def _digest(password: bytes, salt: bytes, p: Parameters = PARAMETERS) -> bytes:
    """Argon2's raw output, computed in this thread's area."""
    out = ffi.new("uint8_t[]", p.hash_len)
    pwd = ffi.new("uint8_t[]", password)
    salt_buffer = ffi.new("uint8_t[]", salt)
    context = ffi.new(
        "argon2_context *",
        {
            "out": out, "outlen": p.hash_len, "pwd": pwd, "pwdlen": len(password),
            "salt": salt_buffer, "saltlen": len(salt), "secret": ffi.NULL, "secretlen": 0,
            "ad": ffi.NULL, "adlen": 0, "t_cost": p.time_cost, "m_cost": p.memory_cost,
            "lanes": p.parallelism, "threads": p.parallelism, "version": p.version,
            "allocate_cbk": _ALLOCATE, "free_cbk": _RELEASE, "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )  # fmt: skip
    result = core(context, p.type.value)
    if result != lib.ARGON2_OK:
        raise HashingError(error_to_str(result))
    return bytes(ffi.buffer(out, p.hash_len))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


_PREFIX = (
    f"$argon2id$v={PARAMETERS.version}$m={PARAMETERS.memory_cost},t={PARAMETERS.time_cost},"
    f"p={PARAMETERS.parallelism}$"
)


def _decode(password_hash: str) -> tuple[bytes, bytes] | None:
    """(salt, digest) of a hash made with today's parameters; None for anything else."""
    if not password_hash.startswith(_PREFIX):
        return None
    salt, _sep, digest = password_hash[len(_PREFIX) :].partition("$")
    try:
        salt_bytes, digest_bytes = _unb64(salt), _unb64(digest)
    except (ValueError, binascii.Error):
        return None
    if len(salt_bytes) < PARAMETERS.salt_len or len(digest_bytes) != PARAMETERS.hash_len:
        return None
    return salt_bytes, digest_bytes


def _salt() -> bytes:
    return os.urandom(PARAMETERS.salt_len)


def _reused_areas_work() -> bool:
    """This libargon2 hashes through `core` as argon2-cffi does (a cheap check, once)."""
    p = Parameters(Type.ID, 19, salt_len=16, hash_len=32, time_cost=1, memory_cost=64,
                   parallelism=2)  # fmt: skip
    salt = bytes(range(16))
    try:
        same = _digest(b"honnin", salt, p) == hash_secret_raw(
            b"honnin", salt, p.time_cost, p.memory_cost, p.parallelism, p.hash_len, p.type
        )
    except Exception:  # a binding whose context or callbacks changed: whatever it raises
        same = False
    if not same:
        log.warning(
            "the low-level Argon2 binding failed its check: hashing with argon2-cffi's "
            "PasswordHasher instead (fresh memory per hash, about a third more CPU)"
        )
    return same


class Argon2id:
    """argon2-cffi's `PasswordHasher` with today's parameters (same hashes, same errors), that
    hashes in the calling thread's reused area; hashes with other parameters are argon2-cffi's
    to check."""

    def __init__(self) -> None:
        self.library = PasswordHasher.from_parameters(PARAMETERS)
        self.reuse = _reused_areas_work()

    def hash(self, password: str) -> str:
        if not self.reuse:
            return self.library.hash(password)
        salt = _salt()
        return f"{_PREFIX}{_b64(salt)}${_b64(_digest(password.encode(), salt))}"

    def verify(self, password_hash: str, password: str) -> bool:
        decoded = _decode(password_hash) if self.reuse else None
        if decoded is None:
            return self.library.verify(password_hash, password)
        salt, digest = decoded
        if not hmac.compare_digest(_digest(password.encode(), salt), digest):
            raise VerifyMismatchError
        return True

    def check_needs_rehash(self, password_hash: str) -> bool:
        return self.library.check_needs_rehash(password_hash)


_hasher = Argon2id()


# --- hashing ----------------------------------------------------------------------------------


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Checked:
    right: bool
    new_hash: str | None = None  # right, and its hash had other parameters: today's hash of it


def normal(password: str) -> str:
    """The form a password is hashed in (NFKC): full-width `ｐａｓｓ` and `pass`, a composed
    and a decomposed `é`, are one password, whatever keyboard or input method typed it."""
    return unicodedata.normalize("NFKC", password)


def _check(password_hash: str, password: str) -> Checked:
    typed = normal(password)
    if _verify(password_hash, typed):
        if _hasher.check_needs_rehash(password_hash):
            return Checked(True, _hasher.hash(typed))
        return Checked(True)
    # a hash made before passwords were normalised: of the password as it was typed
    if typed != password and _verify(password_hash, password):
        return Checked(True, _hasher.hash(typed))
    return Checked(False)


async def hash_password(password: str) -> str:
    """Argon2id hash of the password's normal form, computed in the hashing pool."""
    return await _off_loop(lambda: _hasher.hash(normal(password)))


async def verify_password(password_hash: str, password: str) -> bool:
    return await _off_loop(lambda: _verify(password_hash, normal(password)))


async def check_password(password_hash: str, password: str) -> Checked:
    """`verify_password`, and when the password is right but its hash was made with other
    parameters (older, weaker defaults), its hash with today's: to be stored in its place."""
    return await _off_loop(lambda: _check(password_hash, password))


_dummy_hash: str | None = None
_dummy_lock = threading.Lock()


def _dummy() -> str:
    """A hash with today's parameters, made once, in the pool (the loop never hashes)."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("not a password anyone has")
        return _dummy_hash


def _check_nothing(password: str) -> None:
    """As many verifications as a wrong password costs `_check`."""
    _verify(_dummy(), normal(password))
    if normal(password) != password:
        _verify(_dummy(), password)


async def verify_nothing(password: str) -> None:
    """Spend the time of a real check (for a name without an account: no enumeration)."""
    await _off_loop(lambda: _check_nothing(password))
