"""A minimal Django project around django-allauth's login by code (bench/flows.py).

Configured from the environment by bench/flows.py:
- BENCH_DATABASE: `sqlite:////absolute/path.db` or `postgresql://user@host:port/name`, with
  `?schema=NAME` for a schema of its own;
- BENCH_SMTP_PORT: the sink's port on 127.0.0.1 (mail goes out inside the request, over SMTP);
- BENCH_ALLAUTH_PAGES=1: allauth's own HTML pages too (`HEADLESS_ONLY = False`); otherwise
  only the headless API.

As a careful deployment would run it: no debug, persistent database connections, SQLite in WAL
mode with `BEGIN IMMEDIATE` (Django's advice for concurrent writers), rate limits off (the
bench signs in thousands of accounts from one address).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs, urlsplit

SECRET_KEY = os.environ.get("BENCH_DJANGO_SECRET_KEY", "bench-only-not-a-secret-" + "x" * 40)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
PAGES = os.environ.get("BENCH_ALLAUTH_PAGES") == "1"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "allauth",
    "allauth.account",
    "allauth.headless",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
ROOT_URLCONF = "benchsite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]


def _database(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": parts.path,
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            },
        }
    schema = parse_qs(parts.query).get("schema", ["public"])[0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
        "CONN_MAX_AGE": None,
        "OPTIONS": {"options": f"-c search_path={schema}"},
    }


DATABASES = {"default": _database(os.environ.get("BENCH_DATABASE", "sqlite:////tmp/allauth.db"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "/static/"

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("BENCH_SMTP_PORT", "2525"))
DEFAULT_FROM_EMAIL = "Example account team <account-security-noreply@example.com>"

HEADLESS_ONLY = not PAGES
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_RATE_LIMITS = False
LOGIN_REDIRECT_URL = "/accounts/email/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},  # not a line per 4xx
}
