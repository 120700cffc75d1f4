"""Accounts: unique addresses, safe password resets, shared rate limits and TOTP sign-in."""

import os
import subprocess
import sys
import time
import uuid

import pytest
import redis
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core import mail
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client
from django.urls import reverse

from tests.conftest import ROOT, worker_env
from tests.factories import UserFactory

PASSWORD = "correct horse battery"
NEW_PASSWORD = "una clave bastante larga 2026"


@pytest.fixture(autouse=True)
def own_cache(settings, tmp_path):
    """This test's own namespace in the configured shared cache, deleted afterwards.

    Not cache.clear(): on Redis that flushes the whole database, which parallel test
    runs and the Celery broker share.
    """
    default = dict(settings.CACHES["default"])
    default["KEY_PREFIX"] = f"test-accounts-{uuid.uuid4().hex}"
    if default["BACKEND"].endswith("FileBasedCache"):
        default["LOCATION"] = str(tmp_path / "var" / "cache")
    settings.CACHES = {"default": default}
    yield default
    if default["BACKEND"].endswith("RedisCache"):
        client = redis.Redis.from_url(default["LOCATION"])
        keys = list(client.scan_iter(f"{default['KEY_PREFIX']}:*"))
        if keys:
            client.delete(*keys)


def account(email: str, *, verified: bool = True):
    user = UserFactory(email=email)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def sign_up(client: Client, email: str):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def error_codes(response, field: str = "__all__") -> set[str]:
    return {error.code for error in response.context["form"].errors.as_data().get(field, [])}


# --- unique e-mail addresses -------------------------------------------------------------


def test_sign_up_works_with_a_new_address(client, db):
    response = sign_up(client, "nueva@example.org")
    assert response.status_code == 302
    assert get_user_model().objects.filter(email="nueva@example.org").exists()


def test_the_spanish_confirmation_mail_addresses_the_reader_as_usted(client, db):
    """allauth's own Spanish says 'vete a' and 'tu dirección'; the portal says usted."""
    sign_up(client, "nueva@example.org")
    (message,) = mail.outbox
    assert "ha facilitado su dirección de correo electrónico" in message.body
    assert "Para confirmar que es correcto, vaya a http" in message.body
    assert " tu " not in message.body and "vete" not in message.body


def test_account_mails_name_the_network_not_example_com(client, db):
    sign_up(client, "nueva@example.org")
    (message,) = mail.outbox
    assert message.subject.startswith("[RECI] ")
    assert "RECI" in message.body and "example.com" not in message.body


@pytest.mark.parametrize(
    ("existing", "typed"),
    [("ana@example.org", "Ana@Example.org"), ("Ana@Example.org", "ana@example.org")],
)
def test_sign_up_is_refused_when_an_address_row_has_the_email_in_another_case(
    client, db, existing, typed
):
    other = UserFactory(email="otra@example.org")
    EmailAddress.objects.create(user=other, email=existing, verified=True, primary=False)
    users_before = get_user_model().objects.count()
    response = sign_up(client, typed)
    assert response.status_code == 200
    assert error_codes(response, "email") == {"email_taken"}
    assert get_user_model().objects.count() == users_before


@pytest.mark.parametrize(
    ("existing", "typed"),
    [("ana@example.org", "Ana@Example.org"), ("Ana@Example.org", "ana@example.org")],
)
def test_sign_up_is_refused_when_a_user_has_the_email_in_another_case(client, db, existing, typed):
    UserFactory(email=existing)  # e.g. made in the admin: no EmailAddress row
    users_before = get_user_model().objects.count()
    response = sign_up(client, typed)
    assert response.status_code == 200
    assert error_codes(response, "email") == {"email_taken"}
    assert get_user_model().objects.count() == users_before


def test_the_taken_address_message_says_what_to_do(client, db):
    UserFactory(email="ana@example.org")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    message = str(sign_up(client, "ANA@example.org").context["form"].errors["email"])
    assert "An account with this e-mail address already exists" in message
    assert "reset your password" in message


# --- password reset ----------------------------------------------------------------------


def reset(client: Client, email: str):
    return client.post(reverse("account_reset_password"), {"email": email})


def test_password_reset_mails_a_verified_address(client, db):
    account("ana@example.org", verified=True)
    response = reset(client, "Ana@Example.org")
    assert response.status_code == 302
    assert [[to.lower() for to in m.to] for m in mail.outbox] == [["ana@example.org"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_password_reset_sends_nothing_to_an_unverified_address(client, db):
    account("ana@example.org", verified=False)
    unverified = reset(client, "ana@example.org")
    unknown = reset(Client(), "nadie@example.org")
    assert mail.outbox == []
    assert unverified.status_code == unknown.status_code == 302
    assert unverified["Location"] == unknown["Location"] == reverse("account_reset_password_done")


def test_password_reset_ignores_a_user_email_without_a_verified_address(client, db):
    UserFactory(email="ana@example.org")  # no EmailAddress row: never verified
    assert reset(client, "ana@example.org").status_code == 302
    assert mail.outbox == []


# --- login rate limits on the shared cache -----------------------------------------------


def test_the_cache_is_shared_by_processes_not_per_process_memory():
    assert not isinstance(caches["default"], LocMemCache)
    backend = django_settings.CACHES["default"]["BACKEND"]
    if os.environ.get("REDIS_URL"):
        assert backend == "django.core.cache.backends.redis.RedisCache"
    else:
        assert backend == "django.core.cache.backends.filebased.FileBasedCache"


def test_without_redis_the_cache_is_a_folder_under_var(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="reci.settings.dev", RECI_VAR_DIR=str(tmp_path))
    script = "from django.conf import settings; c = settings.CACHES['default']; "
    script += "print(c['BACKEND']); print(c['LOCATION'])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    backend, location = result.stdout.split()[-2:]
    assert backend == "django.core.cache.backends.filebased.FileBasedCache"
    assert location == str(tmp_path / "cache")


def log_in(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


LOGIN_IN_ANOTHER_PROCESS = """
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse
setup_test_environment()
response = Client().post(reverse("account_login"), {"login": %r, "password": %r})
print(response.status_code)
"""


@pytest.mark.django_db(transaction=True)
def test_failed_logins_lock_the_account_for_every_client_and_process(own_cache):
    account("ana@example.org")
    for _attempt in range(5):
        response = log_in(Client(), "ana@example.org", "wrong password")
        assert response.status_code == 200
        assert response.wsgi_request.user.is_anonymous

    refused = log_in(Client(), "ana@example.org", PASSWORD)  # right password, too late
    assert refused.status_code == 200
    assert error_codes(refused) == {"too_many_login_attempts"}
    assert refused.wsgi_request.user.is_anonymous

    env = worker_env(RECI_CACHE_KEY_PREFIX=own_cache["KEY_PREFIX"])
    if own_cache["BACKEND"].endswith("FileBasedCache"):  # the same folder: <var>/cache
        env["RECI_VAR_DIR"] = os.path.dirname(own_cache["LOCATION"])
    other_process = subprocess.run(
        [sys.executable, "-c", LOGIN_IN_ANOTHER_PROCESS % ("ana@example.org", PASSWORD)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert other_process.returncode == 0, other_process.stderr
    assert other_process.stdout.split()[-1] == "200"  # the form again, not a redirect


def test_a_correct_login_before_the_limit_signs_in(client, db):
    account("ana@example.org")
    for _attempt in range(4):
        log_in(client, "ana@example.org", "wrong password")
    response = log_in(client, "ana@example.org", PASSWORD)
    assert response.status_code == 302
    assert response.wsgi_request.user.email == "ana@example.org"


@pytest.mark.parametrize(
    ("names", "shown"),
    [({"first_name": "Ana", "last_name": "Gómez"}, "Ana Gómez"), ({}, "ana@example.org")],
)
def test_the_sign_in_message_names_the_person_not_the_username(db, names, shown):
    """Regression: "Successfully signed in as coordinator" (the username)."""
    user = account("ana@example.org")
    fields = {"username": "coordinator", "first_name": "", "last_name": "", **names}
    get_user_model().objects.filter(pk=user.pk).update(**fields)
    client = Client(headers={"accept-language": "en"})
    response = log_in(client, "ana@example.org", PASSWORD)
    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [f"Successfully signed in as {shown}."]


# --- two-factor sign-in with TOTP --------------------------------------------------------


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_mfa_offers_totp_and_recovery_codes_with_the_network_as_issuer():
    assert django_settings.MFA_SUPPORTED_TYPES == ["totp", "recovery_codes"]
    assert django_settings.MFA_TOTP_ISSUER == "RECI"


def test_a_user_with_totp_is_asked_for_the_code_and_signed_in_by_it(client, db):
    user = account("ana@example.org")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)

    response = log_in(client, "ana@example.org", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == django_settings.LOGIN_REDIRECT_URL
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_wrong_totp_code_does_not_sign_in(client, db):
    user = account("ana@example.org")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    log_in(client, "ana@example.org", PASSWORD)
    wrong = f"{(int(current_code(secret)) + 1) % 10**6:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
