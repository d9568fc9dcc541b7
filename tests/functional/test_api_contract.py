"""The JSON API keeps its OpenAPI contract: schemathesis fuzzes every operation, with a valid API
key and without one, against the real service on a loopback port.

It fails on any 5xx, any response the schema does not describe (status, headers, content type,
body), a schema-valid request refused as malformed (422) or a malformed one accepted, an `Allow`
header that does not list the path's methods, and an operation that works without its key.
A well-formed request may still be judged wrong (a wrong code or password: 400), or find
nothing (404), or come at the wrong time (409, 410), or too often (429).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import APIOperation
from schemathesis import Case as AnyCase

from honnin.app import create_app
from honnin.config import Settings
from tests.support.live import Live, live_server
from tests.support.smtp import Sink
from tests.support.twilio import FakeTwilio

Case = AnyCase[APIOperation[Any, Any, Any, Any]]
SECRET = "test-secret-" + "x" * 40
MAX_EXAMPLES = 12

CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "404", "409", "410", "422", "429"]
            },
        }
    }
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("contract")
    shutil.copy(sqlite_template, folder / "honnin.db")
    sink = Sink().start()
    twilio = FakeTwilio().start()  # texts and calls go somewhere real enough
    generous = "100000/hour"
    config = Settings(
        secret_key=SECRET,
        database_url=f"sqlite+aiosqlite:///{folder / 'honnin.db'}",
        data_dir=folder,
        smtp_url=sink.url,
        mail_from="Example account team <account-security-noreply@accountprotection.example.com>",
        limit_destination_sends=generous,
        limit_account_sends=generous,
        limit_client_sends=generous,
        limit_ip_sends=generous,
        limit_client_checks=generous,
        limit_ip_checks=generous,
        limit_name_failures=generous,
        limit_prefix_sends=generous,
        limit_country_sends=generous,
        resend_cooldown_seconds=0,
        sms_providers=twilio.provider_url(),
        voice_providers=twilio.provider_url(),
    )
    try:
        with live_server(config) as server:
            yield server
    finally:
        sink.stop()
        twilio.stop()


@pytest.fixture(scope="module")
def api_key(live: Live) -> str:
    return live.run(live.runtime.clients.create("Contract")).api_key


# A schema-valid body may be refused with 422 only for what JSON Schema cannot say.
JUDGEMENTS_422 = {
    "weak_password",
    "invalid_phone",  # libphonenumber's: whether the number exists in its region
    "phone_not_accepted",  # VoIP, premium-rate, toll-free…: the number's type
    "phone_cannot_text",  # a landline asked for a text
}


@schemathesis.check
def schema_valid_is_well_formed(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """A 422 to a request the schema allows is the schema promising too much."""
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if positive and response.status_code == 422:
        error = response.json().get("error")
        assert error in JUDGEMENTS_422, f"schema-valid request refused as {error}: {response.text}"
    return None


@schemathesis.check
def a_405_lists_the_methods_of_the_path(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """RFC 9110 §15.5.6: a 405 carries `Allow`, naming every method the path takes."""
    if response.status_code == 405:
        allow = response.headers.get("allow", [""])[0]
        documented = {method.upper() for method in SERVED["paths"][case.operation.path]}
        assert set(allow.split(", ")) == documented, f"Allow: {allow!r}"
    return None


def _served_schema() -> dict[str, Any]:
    """The OpenAPI document the app serves, built without starting it (tests are collected
    before any server runs); `test_the_served_schema_is_the_one_fuzzed` checks it is the same."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            secret_key=SECRET,
            database_url=f"sqlite+aiosqlite:///{folder}/unused.db",
            data_dir=Path(folder),
        )
        return create_app(settings).openapi()


SERVED = _served_schema()
schema = schemathesis.openapi.from_dict(SERVED, config=CONFIG)


def test_the_served_schema_is_the_one_fuzzed(live: Live) -> None:
    assert httpx.get(f"{live.base_url}/api/openapi.json").json() == SERVED


FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@schema.parametrize()
@FUZZ
def test_every_operation_keeps_the_contract_with_a_key(
    case: Case, live: Live, api_key: str
) -> None:
    case.call_and_validate(base_url=live.base_url, headers={"Authorization": f"Bearer {api_key}"})


@schema.parametrize()
@FUZZ
def test_every_operation_keeps_the_contract_without_a_key(case: Case, live: Live) -> None:
    case.headers.pop("Authorization", None)  # case-insensitive: any spelling of it
    response = case.call_and_validate(base_url=live.base_url)
    if response.request.method != case.operation.method.upper():
        return  # a probe with a method the path does not take: its 405 was checked above
    if case.meta is not None and not case.meta.generation.mode.is_positive:
        # a body that does not parse (400) or has the wrong shape (422) is refused before the
        # key is read: FastAPI reads the body first; it is never acted on
        assert response.status_code in (400, 401, 422)
    else:
        assert response.status_code == 401


def test_chains_of_operations_keep_the_contract(live: Live, api_key: str) -> None:
    """Stateful: operations fed with what earlier ones returned (a flow's or a verification's
    id), so the fuzzer reaches real flows and codes, not only unknown ids."""

    class Chains(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"base_url": live.base_url, "headers": {"Authorization": f"Bearer {api_key}"}}

    Chains.run(settings=settings(FUZZ, max_examples=20, stateful_step_count=8))


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/v1/flows/some-id", "GET, POST"),
        ("PUT", "/api/v1/sessions/current", "DELETE, GET"),
        ("GET", "/api/v1/verifications", "POST"),
        ("DELETE", "/signin/some-id", "GET, POST"),
        ("GET", "/lang", "POST"),
        ("PUT", "/signout", "GET, POST"),
    ],
)
def test_a_405_lists_every_method_of_the_path(
    live: Live, method: str, path: str, allow: str
) -> None:
    response = httpx.request(method, f"{live.base_url}{path}")
    assert (response.status_code, response.headers["allow"]) == (405, allow)
