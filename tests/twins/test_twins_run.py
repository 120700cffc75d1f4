"""`manage.py twins_run`: bad input is refused before anything is stored."""

import pytest
from django.core.management import CommandError, call_command

from twins.models import PackageVersion


@pytest.mark.parametrize(
    "options",
    [["--gap", "2"], ["--gap", "nan"], ["--max-iterations", "0"]],
    ids=["gap-2", "gap-nan", "zero-iterations"],
)
def test_bad_overrides_store_neither_rows_nor_files(cast, sioux_zip, settings, options):
    # Regression: the archive was saved before the overrides were checked.
    def stored_files() -> set:
        return {p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()}

    before = stored_files()
    with pytest.raises(CommandError):
        call_command("twins_run", str(sioux_zip), "--city", "granada", *options)
    assert not PackageVersion.objects.exists()
    assert stored_files() == before


def test_json_into_a_missing_folder_is_refused_before_running(cast, sioux_zip, tmp_path):
    with pytest.raises(CommandError, match="folder does not exist"):
        call_command(
            "twins_run", str(sioux_zip), "--city", "granada", "--wait",
            "--json", str(tmp_path / "missing" / "s.json"),
        )  # fmt: skip
    assert not PackageVersion.objects.exists()


def test_without_city_the_city_already_publishing_the_package_is_used(cast, sioux_zip):
    from twins.services import publish_version

    publish_version(sioux_zip.read_bytes(), city=cast.other_city)
    call_command("twins_run", str(sioux_zip))
    assert PackageVersion.objects.get().package.owner_city == cast.other_city


def test_without_city_and_several_cities_it_asks_for_one(cast, sioux_zip):
    with pytest.raises(CommandError, match="--city"):
        call_command("twins_run", str(sioux_zip))
