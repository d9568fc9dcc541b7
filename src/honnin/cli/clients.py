"""The applications that use honnin: API clients (an API key for the verification and flows
APIs) and OpenID Connect clients (they sign their users in with honnin: `oidc.clients`)."""

from __future__ import annotations

import uuid
from typing import Any

import typer
from rich.table import Table

from honnin.cli.common import console, fail, print_json, with_database
from honnin.clients.service import ClientService, ClientView
from honnin.clock import SystemClock
from honnin.errors import NotFound
from honnin.oidc.clients import OidcClients, OidcClientView, Registration

app = typer.Typer(
    help="Applications: API clients, and OpenID Connect clients that sign users in.",
    no_args_is_help=True,
)


def _oidc(db: Any) -> OidcClients:
    return OidcClients(db, SystemClock())


@app.command()
def create(
    name: str,
    oidc: bool = typer.Option(
        False, "--oidc", help="An OpenID Connect client (signs its users in with honnin)."
    ),
    redirect_uri: list[str] = typer.Option(  # noqa: B008
        [], "--redirect-uri", help="Where sign-ins return (repeat for several); exact match."
    ),
    public: bool = typer.Option(
        False, "--public", help="No secret (a single-page or native app): PKCE is required."
    ),
    post_logout_redirect_uri: list[str] = typer.Option(  # noqa: B008
        [], "--post-logout-redirect-uri", help="Where a logout may return (repeatable)."
    ),
    subject: str = typer.Option(
        "pairwise", "--subject", help="pairwise (per sector, the default) or public."
    ),
    sector_identifier_uri: str | None = typer.Option(
        None, "--sector-identifier-uri", help="A JSON array listing every redirect URI."
    ),
    id_token_alg: str = typer.Option("RS256", "--id-token-alg", help="RS256 or ES256."),
    jwks_uri: str | None = typer.Option(
        None, "--jwks-uri", help="The client's keys, for private_key_jwt."
    ),
) -> None:
    """Create a client NAME: an API key (shown only this once), or with --oidc an OpenID
    Connect client (its id, and a confidential client's secret, shown only this once)."""
    if not oidc:
        if redirect_uri or public or post_logout_redirect_uri or jwks_uri or sector_identifier_uri:
            fail("--redirect-uri, --public and the other OpenID Connect options need --oidc")
        new = with_database(lambda db: ClientService(db, SystemClock()).create(name))
        console.print(f"created client {new.client.id} ({new.client.name})")
        console.print("API key (shown only now; store it safely):")
        console.print(new.api_key, soft_wrap=True)
        return
    registration = Registration(
        name, redirect_uri, public, post_logout_redirect_uri, subject, sector_identifier_uri,
        id_token_alg, jwks_uri,
    )  # fmt: skip
    made = with_database(lambda db: _oidc(db).create(registration))
    kind = "public" if made.client.public else "confidential"
    console.print(f"created OpenID Connect client {made.client.name} ({kind})")
    console.print(f"client id: {made.client.id}", soft_wrap=True)
    if made.secret is not None:
        console.print(f"client secret: {made.secret}", soft_wrap=True)
        console.print("(the secret is shown only now; store it safely)")


def _oidc_row(client: OidcClientView) -> dict[str, Any]:
    return {
        **vars(client),
        "kind": "oidc",
        "token_endpoint_auth_method": client.auth_method,
    }


def _api_row(client: ClientView) -> dict[str, Any]:
    return {**vars(client), "kind": "api"}


@app.command("list")
def list_clients(
    as_json: bool = typer.Option(False, "--json", help="A JSON array for scripts."),
) -> None:
    """Every client, oldest first: API clients and OpenID Connect clients."""

    async def both(db: Any) -> tuple[list[ClientView], list[OidcClientView]]:
        return await ClientService(db, SystemClock()).listed(), await _oidc(db).listed()

    api, oidc = with_database(both)
    if as_json:
        print_json([_api_row(c) for c in api] + [_oidc_row(c) for c in oidc])
        return
    table = Table(title="clients (times in UTC)", title_justify="left")
    for column in ("id", "name", "kind", "created", "disabled"):
        table.add_column(column, overflow="fold")
    for client in api:
        table.add_row(
            str(client.id), client.name, "API key", f"{client.created_at:%Y-%m-%d %H:%M}",
            f"{client.revoked_at:%Y-%m-%d %H:%M}" if client.revoked_at else "",
        )  # fmt: skip
    for oidc_client in oidc:
        kind = "OpenID Connect, " + ("public" if oidc_client.public else "confidential")
        disabled = oidc_client.disabled_at
        table.add_row(
            str(oidc_client.id), oidc_client.name, kind,
            f"{oidc_client.created_at:%Y-%m-%d %H:%M}",
            f"{disabled:%Y-%m-%d %H:%M}" if disabled else "",
        )  # fmt: skip
    console.print(table)


@app.command()
def show(
    client_id: str,
    as_json: bool = typer.Option(False, "--json", help="A JSON object for scripts."),
) -> None:
    """An OpenID Connect client: its redirect URIs, subjects, ID token algorithm, how it
    authenticates (never its secret)."""
    client = with_database(lambda db: _oidc(db).get(client_id))
    if as_json:
        print_json(_oidc_row(client))
        return
    console.print(f"[bold]client[/] {client.id} ({client.name})")
    console.print(f"kind           {'public' if client.public else 'confidential'}")
    console.print(f"authenticates  {client.auth_method}")
    console.print(f"subjects       {client.subject_type} (sector {client.sector})")
    console.print(f"ID tokens      {client.id_token_alg}")
    for uri in client.redirect_uris:
        console.print(f"redirect URI   {uri}", soft_wrap=True)
    for uri in client.post_logout_redirect_uris:
        console.print(f"after logout   {uri}", soft_wrap=True)
    if client.jwks_uri:
        console.print(f"JWKS URI       {client.jwks_uri}", soft_wrap=True)
    console.print(f"created        {client.created_at:%Y-%m-%d %H:%M:%S} UTC")
    if client.disabled_at:
        console.print(f"disabled       {client.disabled_at:%Y-%m-%d %H:%M:%S} UTC")


@app.command()
def disable(client_id: str) -> None:
    """Disable a client: an API client's key stops working; an OpenID Connect client signs
    nobody in any more."""

    async def either(db: Any) -> str:
        try:
            found = await _oidc(db).disable(client_id)
            return f"disabled OpenID Connect client {found.id} ({found.name})"
        except NotFound:
            try:
                key = uuid.UUID(client_id)
            except ValueError:
                key = None
            api = await ClientService(db, SystemClock()).disable(key) if key else None
            if api is None:
                raise
            return f"disabled client {api.id} ({api.name}): its API key no longer works"

    console.print(with_database(either))


@app.command("rotate-secret")
def rotate_secret(client_id: str) -> None:
    """A new secret for a confidential OpenID Connect client, shown only this once; the old
    one stops working at once."""
    secret = with_database(lambda db: _oidc(db).rotate_secret(client_id))
    console.print(f"client secret: {secret}", soft_wrap=True)
    console.print("(the secret is shown only now; the old one no longer works)")
