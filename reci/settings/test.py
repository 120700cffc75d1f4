"""Test settings: the same services as production when DATABASE_URL and REDIS_URL are set.

The Celery worker that tests start inherits this process's environment, so the
per-run names chosen here (queue, media folder, broker folder) are set in the
environment before the base settings read them: worker and tests agree.
"""

import os
from pathlib import Path

_run = f"test-{os.getpid()}"
_var = Path(os.environ.get("RECI_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"reci-{_run}")
os.environ.setdefault("RECI_MEDIA_ROOT", str(_var / "test-media" / _run))
os.environ.setdefault("RECI_BROKER_DIR", str(_var / "test-broker" / _run))
os.environ.setdefault("RECI_CACHE_KEY_PREFIX", f"reci-{_run}")

from .base import *  # noqa: E402, F403
from .base import DATABASES  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test process always uses locmem (pytest-django); a worker the tests start may be told
# to write files instead, which the test then reads.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: the Celery worker started by the tests must see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(_var / f"{_run}.sqlite3")}
else:
    # One test database per test run, so that two runs on one server never collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
