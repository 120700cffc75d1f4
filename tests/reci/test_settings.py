"""Settings come from the environment, and a bad value stops start-up with its name."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from reci.settings.env import env_bool, env_int, env_list
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("yes", True), ("False", False), ("", False)]
)
def test_booleans_are_read_strictly(monkeypatch, raw, value):
    monkeypatch.setenv("DJANGO_DEBUG", raw)
    assert env_bool("DJANGO_DEBUG", not value) is value


def test_a_bad_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("DJANGO_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG='maybe' is not a boolean"):
        env_bool("DJANGO_DEBUG", False)


def test_a_bad_integer_names_the_variable(monkeypatch):
    monkeypatch.setenv("TWINS_RUN_SOFT_TIME_LIMIT", "ten")
    with pytest.raises(ImproperlyConfigured, match="TWINS_RUN_SOFT_TIME_LIMIT='ten'"):
        env_int("TWINS_RUN_SOFT_TIME_LIMIT", 5)
    monkeypatch.setenv("TWINS_RUN_SOFT_TIME_LIMIT", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("TWINS_RUN_SOFT_TIME_LIMIT", 5, minimum=1)


def test_lists_are_comma_separated(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "reci.example.org, www.reci.example.org,")
    assert env_list("DJANGO_ALLOWED_HOSTS", []) == ["reci.example.org", "www.reci.example.org"]


def manage(*args, **env):
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True
    )


def test_start_up_fails_on_a_bad_value_with_a_message():
    result = manage("check", DJANGO_DEBUG="maybe", DJANGO_SETTINGS_MODULE="reci.settings.dev")
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_production_needs_a_real_secret_key():
    result = manage(
        "check", DJANGO_SETTINGS_MODULE="reci.settings.production", DJANGO_SECRET_KEY="short"
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deployment_checks():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="reci.settings.production",
        DJANGO_SECRET_KEY="x" * 20 + "-production-secret-for-the-check-" + "y" * 20,
        DJANGO_ALLOWED_HOSTS="reci.example.org",
    )
    assert result.returncode == 0, result.stderr


def test_a_django_warning_is_printed_once_with_debug_on(settings, capsys):
    """A 403 was logged twice in the demo: by Django's DEBUG console handler and the root's."""
    import logging

    from django.utils.log import configure_logging

    settings.DEBUG = True
    try:
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)  # handlers on this stderr
        logging.getLogger("django.request").warning("Forbidden (Permission denied): /x/")
        assert capsys.readouterr().err.count("Forbidden (Permission denied): /x/") == 1
    finally:
        settings.DEBUG = False
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
