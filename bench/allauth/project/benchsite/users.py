"""Create bench users with a verified primary address each: `python -m benchsite.users PREFIX
START COUNT` makes PREFIX{START}@bench.example.com … (no password: they sign in by code)."""

from __future__ import annotations

import sys

import django  # type: ignore[import-not-found]


def create(prefix: str, start: int, count: int) -> None:
    from allauth.account.models import EmailAddress  # type: ignore[import-not-found]
    from django.contrib.auth import get_user_model  # type: ignore[import-not-found]

    user_model = get_user_model()
    addresses = [f"{prefix}{i}@bench.example.com" for i in range(start, start + count)]
    users = []
    for address in addresses:
        user = user_model(username=address.split("@")[0], email=address)
        user.set_unusable_password()
        users.append(user)
    users = user_model.objects.bulk_create(users, batch_size=500)
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
        batch_size=500,
    )


if __name__ == "__main__":
    django.setup()
    create(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
