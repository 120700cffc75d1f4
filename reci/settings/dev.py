"""Laptop and demo settings: SQLite and a server-less broker unless told otherwise."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
