from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.low_level import hash_secret

from honnin.accounts import common, passwords
from honnin.accounts.passwords import (
    Checked,
    WeakPassword,
    check_password,
    check_strength,
    hash_password,
    verify_nothing,
    verify_password,
)

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8"),
        ("password", "most common"),
        ("12345678", "most common"),
        ("qwertyuiop", "most common"),
        ("emmawatson2026", "email address or name"),
        ("x" * 257, "at most 256"),
        ("monkeymonkey99", "too easy to guess"),  # not listed, but zxcvbn sees a repeated word
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    """With a second factor (two-step verification on): at least 8 characters."""
    with pytest.raises(WeakPassword) as caught:
        check_strength(password, ["emmawatson@example.com"], only_factor=False)
    assert reason in str(caught.value)
    assert caught.value.code == "weak_password"


def test_a_password_that_signs_in_alone_needs_15_characters() -> None:
    check_strength("glass harbor q", only_factor=False)
    with pytest.raises(WeakPassword, match="at least 15"):
        check_strength("glass harbor q")  # 14 characters, the only factor
    check_strength("glass harbor qu")


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "tsuki-ga-kirei-desu-ne", "Gl4ss!Harbor#Quiet"]
)
def test_good_passwords_pass(password: str) -> None:
    check_strength(password, ["emma@example.com"])


async def test_hashes_are_argon2id_and_verify() -> None:
    hashed = await hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert await verify_password(hashed, "correct horse battery staple")
    assert not await verify_password(hashed, "correct horse battery stapler")
    assert not await verify_password("not a hash", "anything")


# --- Argon2id in a reused area ---------------------------------------------------------------

SALT = bytes(range(100, 116))


async def test_a_hash_is_argon2_cffis_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_salt", lambda: SALT)
    p = passwords.PARAMETERS
    expected = hash_secret(
        PASSWORD.encode(), SALT, p.time_cost, p.memory_cost, p.parallelism, p.hash_len, Type.ID
    )
    assert await hash_password(PASSWORD) == expected.decode()


async def test_hashes_are_read_both_ways_with_argon2_cffi() -> None:
    ours = await hash_password(PASSWORD)
    assert PasswordHasher().verify(ours, PASSWORD)
    theirs = PasswordHasher().hash(PASSWORD)
    assert await verify_password(theirs, PASSWORD)
    assert not await verify_password(theirs, PASSWORD + "!")
    assert await verify_password(await hash_password(""), "")


async def test_the_area_is_reused_and_wiped_after_each_hash() -> None:
    def hash_twice() -> tuple[bool, bool, int]:
        passwords._hasher.hash(PASSWORD)
        first = passwords._areas.region
        passwords._hasher.hash(PASSWORD)
        region = passwords._areas.region
        return region is first, region[:] == bytes(len(region)), len(region)

    reused, wiped, size = await passwords._off_loop(hash_twice)
    assert reused
    assert wiped  # libargon2 clears its memory before it hands it back: no block of a password
    assert size == passwords.PARAMETERS.memory_cost * 1024


@pytest.mark.parametrize(
    "tail",
    [
        "",
        "$",
        "!!!!$!!!!",
        "c2FsdA$c2FsdA",
        "AAAAAAAAAAAAAAAAAAAAAA$AAAA",
        "AAAAAAAAAAAAAAAAAAAAAA",
    ],
)
async def test_a_malformed_hash_with_todays_parameters_is_just_wrong(tail: str) -> None:
    assert not await verify_password(passwords._PREFIX + tail, PASSWORD)


async def test_a_hash_of_another_length_is_argon2_cffis_to_check() -> None:
    p = passwords.PARAMETERS
    short = hash_secret(
        PASSWORD.encode(), SALT, p.time_cost, p.memory_cost, p.parallelism, 16, Type.ID
    ).decode()
    assert short.startswith(passwords._PREFIX)
    checked = await check_password(short, PASSWORD)
    assert checked.right
    assert checked.new_hash is not None


def test_without_the_low_level_check_argon2_cffi_hashes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert passwords._reused_areas_work()

    def broken(*args: object) -> bytes:
        raise KeyError("a field this binding does not have")

    monkeypatch.setattr(passwords, "_digest", broken)
    assert not passwords._reused_areas_work()
    assert "failed its check" in caplog.text
    hasher = passwords.Argon2id()
    assert not hasher.reuse
    assert hasher.verify(hasher.hash("x" * 8), "x" * 8)


# --- where hashes run -------------------------------------------------------------------------


def test_parameters_are_argon2id_and_at_least_owasp_minimum() -> None:
    """OWASP's minimum for Argon2id is m=19 MiB, t=2, p=1; RFC 9106's second recommendation
    (argon2-cffi's defaults) is stronger."""
    p = passwords.PARAMETERS
    assert p.type is Type.ID
    assert (p.memory_cost, p.time_cost, p.parallelism) == (65536, 3, 4)
    assert p.memory_cost >= 19 * 1024
    assert p.time_cost >= 2
    assert p.parallelism >= 1


class StandIn:
    """A hasher that records where and how many at once it runs, released by the test."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.blocked = False
        self.threads: set[str] = set()
        self.nice: set[int] = set()
        self.running = 0
        self.most = 0
        self.calls = 0

    def _run(self) -> None:
        thread = threading.current_thread()
        with self.lock:
            self.threads.add(thread.name)
            if sys.platform == "linux":
                self.nice.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
            self.lock.notify_all()
            self.lock.wait_for(lambda: not self.blocked)
            self.running -= 1

    def hash(self, password: str) -> str:
        self._run()
        return f"$stand-in${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        self._run()
        return password_hash == f"$stand-in${password}"

    def check_needs_rehash(self, password_hash: str) -> bool:
        return False

    def wait_for(self, running: int) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: self.running >= running, timeout=30)

    def release(self) -> None:
        with self.lock:
            self.blocked = False
            self.lock.notify_all()


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> StandIn:
    hasher = StandIn()
    monkeypatch.setattr(passwords, "_hasher", hasher)
    monkeypatch.setattr(passwords, "_dummy_hash", None)
    return hasher


async def test_the_event_loop_never_hashes(stand_in: StandIn) -> None:
    hashed = await hash_password("correct horse battery staple")
    assert await verify_password(hashed, "correct horse battery staple")
    assert (await check_password(hashed, "correct horse battery staple")).right
    await verify_nothing("anything")
    assert stand_in.calls == 5  # hash, verify, check, and the dummy's hash and verify
    assert threading.current_thread().name not in stand_in.threads
    assert all(name.startswith("honnin-argon2") for name in stand_in.threads)


@pytest.mark.skipif(sys.platform != "linux", reason="niceness is per thread on Linux only")
async def test_hashes_run_at_a_lower_priority_than_the_loop(stand_in: StandIn) -> None:
    await asyncio.gather(*(hash_password("x") for _ in range(2 * passwords.HASH_THREADS)))
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert stand_in.nice == {min(19, base + passwords.HASH_THREADS_NICE)}


@pytest.mark.parametrize(
    ("cores", "lanes", "threads"),
    [(1, 4, 1), (2, 4, 1), (4, 4, 1), (6, 4, 2), (16, 4, 4), (8, 1, 8)],
)
def test_a_process_hashes_just_enough_at_once_to_keep_the_cores_busy(
    cores: int, lanes: int, threads: int
) -> None:
    """Each hash runs `parallelism` threads itself."""
    assert passwords.hash_threads(cores, lanes) == threads


def test_the_pool_is_sized_to_this_machine() -> None:
    cores = passwords.usable_cores()
    assert passwords.hash_threads(cores, passwords.PARAMETERS.parallelism) == passwords.HASH_THREADS


async def test_hashes_beyond_the_cores_queue(stand_in: StandIn) -> None:
    """As many hashes at once as the pool has threads; the rest wait for one to finish, and
    the loop's default executor (`asyncio.to_thread`) keeps its threads."""
    size = passwords.HASH_THREADS
    stand_in.blocked = True
    checks = [asyncio.ensure_future(verify_password("$stand-in$x", "x")) for _ in range(size + 3)]
    try:
        await asyncio.to_thread(stand_in.wait_for, size)
        assert await asyncio.to_thread(lambda: "the default executor is free") is not None
        assert stand_in.calls == size
    finally:
        stand_in.release()
    assert await asyncio.gather(*checks) == [True] * (size + 3)
    assert stand_in.most == size
    assert stand_in.calls == size + 3


# --- rehashing on sign-in ---------------------------------------------------------------------


async def test_a_right_password_under_weaker_parameters_gets_todays_hash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    assert await check_password(weak, "wrong horse battery staple") == Checked(False)
    upgraded = await check_password(weak, PASSWORD)
    assert upgraded.right
    assert upgraded.new_hash is not None
    assert extract_parameters(upgraded.new_hash) == passwords.PARAMETERS
    assert await check_password(upgraded.new_hash, PASSWORD) == Checked(True)


@pytest.mark.parametrize(
    "password", ["password1", "iloveyou12", "ＰＡＳＳＷＯＲＤ１", "Qwertyuiop"]
)
def test_the_most_common_passwords_are_refused_in_any_case_or_width(password: str) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_strength(password, only_factor=False)  # long enough with a second factor
    assert refused.value.message.msgid.startswith("This password is one of the most common")


def test_the_bundled_list_holds_the_100000_most_common_passwords() -> None:
    assert 95_000 <= common.size() <= 100_000  # distinct once case and width are folded
    assert common.is_common("123456")
    assert not common.is_common(PASSWORD)


async def test_a_password_is_one_whatever_its_width_or_composition() -> None:
    stored = await hash_password(
        "ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ"
    )  # a Japanese IME's full width
    assert await check_password(stored, "correct horse battery") == Checked(True)
    composed, decomposed = "caf\u00e9 au lait au lit", "cafe\u0301 au lait au lit"
    assert (await check_password(await hash_password(composed), decomposed)).right


async def test_a_hash_made_before_normalisation_still_works_and_is_replaced() -> None:
    typed = "ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ"
    legacy = PasswordHasher().hash(typed)  # hashed as typed, not normalised
    checked = await check_password(legacy, typed)
    assert checked.right
    assert checked.new_hash is not None
    assert await verify_password(checked.new_hash, "correct horse battery")
