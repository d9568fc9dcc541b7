"""allauth's headless API under /_allauth/, and its HTML pages under /accounts/ when
BENCH_ALLAUTH_PAGES=1 (with HEADLESS_ONLY they are only the few that emails link to)."""

from __future__ import annotations

from django.urls import include, path  # type: ignore[import-not-found]

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
]
