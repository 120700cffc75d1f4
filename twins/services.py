"""Publishing package versions and starting runs: the domain rules the views call."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction

from twins.engine.package import PackageError, load_package
from twins.engine.runner import validate_overrides

from .models import PackageVersion, ScenarioPackage, ScenarioRun, Visibility


class PublishError(ValueError):
    """The package cannot be published; the message says why."""


def validate_run_parameters(parameters: dict | None) -> dict:
    """Check parameter overrides with the engine's rules; a ValueError names the bad one."""
    return validate_overrides(parameters)


def zip_folder(folder: Path) -> bytes:
    """A folder package as zip bytes (sorted members, fixed timestamps)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(
                path.relative_to(folder).as_posix(), date_time=(1980, 1, 1, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def read_archive_bytes(source: Path) -> bytes:
    if source.is_dir():
        return zip_folder(source)
    if not source.is_file():
        raise PublishError(f"{source}: no such file or folder")
    return source.read_bytes()


def validate_archive(data: bytes):
    """Load (and so validate) a package from zip bytes; raises PackageError."""
    with tempfile.TemporaryDirectory(prefix="reci-pkg-") as tmp:
        path = Path(tmp) / "package.zip"
        path.write_bytes(data)
        return load_package(path)


def publish_version(
    data: bytes, *, city, user=None, visibility: str = Visibility.PUBLIC
) -> tuple[PackageVersion, bool]:
    """Validate and store a package archive as a version of the city's package.

    Returns (version, created). Publishing the same content again returns the
    existing version; a version number reused for other content is refused.
    Nothing is stored when validation fails.
    """
    try:
        loaded = validate_archive(data)
    except PackageError as exc:
        raise PublishError(str(exc)) from exc
    descriptor = loaded.descriptor
    with transaction.atomic():
        package, _ = ScenarioPackage.objects.select_for_update().get_or_create(
            owner_city=city,
            slug=loaded.name,
            defaults={
                "title": descriptor.get("title", loaded.name),
                "description": descriptor.get("description", ""),
                "licence": licence_text(descriptor),
                "attribution": attribution_text(descriptor),
                "visibility": visibility,
                "created_by": user,
            },
        )
        existing = package.versions.filter(sha256=loaded.sha256).first()
        if existing:
            return existing, False
        if package.versions.filter(version=loaded.version).exists():
            raise PublishError(
                f"{package.slug} version {loaded.version} is already published with other "
                "content: raise the version in datapackage.json"
            )
        version = PackageVersion(
            package=package,
            version=loaded.version,
            sha256=loaded.sha256,
            manifest=descriptor,
            created_by=user,
        )
        version.archive.save(f"{loaded.sha256}.zip", ContentFile(data), save=False)
        version.save()
        package.title = descriptor.get("title", package.title)
        package.description = descriptor.get("description", package.description)
        package.save(update_fields=["title", "description", "updated_at"])
    return version, True


def licence_text(descriptor: dict) -> str:
    names = [lic.get("title") or lic.get("name", "") for lic in descriptor.get("licenses", [])]
    return "; ".join(n for n in names if n)[:200]


def attribution_text(descriptor: dict) -> str:
    titles = [source.get("title", "") for source in descriptor.get("sources", [])]
    return "; ".join(t for t in titles if t)[:300]


def start_run(version: PackageVersion, *, user=None, parameters: dict | None = None) -> ScenarioRun:
    """Create a queued run and enqueue it once the transaction commits."""
    from .tasks import run_scenario

    parameters = validate_run_parameters(parameters)
    run = ScenarioRun.objects.create(version=version, parameters=parameters, created_by=user)
    transaction.on_commit(lambda: run_scenario.delay(run.pk))
    return run
