import io
import zipfile

import pytest

from twins.models import PackageVersion, ScenarioPackage
from twins.services import PublishError, publish_version


def rewrite_zip(data: bytes, replace: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, replace.get(info.filename, source.read(info.filename)))
    return out.getvalue()


def test_publishing_stores_a_version_addressed_by_its_content(cast, sioux_zip):
    version, created = publish_version(sioux_zip.read_bytes(), city=cast.owner_city)
    assert created
    assert len(version.sha256) == 64
    assert version.package.owner_city == cast.owner_city
    assert version.manifest["scenario"]["interventions"]
    assert version.archive.read() == sioux_zip.read_bytes()


def test_publishing_the_same_content_twice_returns_the_existing_version(cast, sioux_zip):
    first, _ = publish_version(sioux_zip.read_bytes(), city=cast.owner_city)
    second, created = publish_version(sioux_zip.read_bytes(), city=cast.owner_city)
    assert not created
    assert second.pk == first.pk
    assert PackageVersion.objects.count() == 1


def test_same_version_number_with_other_content_is_refused(cast, sioux_zip, tmp_path):
    from tests.conftest import pack_tntp

    publish_version(sioux_zip.read_bytes(), city=cast.owner_city)
    other = pack_tntp("SiouxFalls", tmp_path / "other.zip", "--close", "1-2")
    with pytest.raises(PublishError, match="already published with other content"):
        publish_version(other.read_bytes(), city=cast.owner_city)
    assert PackageVersion.objects.count() == 1


def test_a_tampered_resource_is_refused_and_nothing_is_stored(cast, sioux_zip):
    data = sioux_zip.read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    net = next(n for n in names if n.endswith("_net.tntp"))
    tampered = rewrite_zip(data, {net: b"<NUMBER OF ZONES> 1\n"})
    with pytest.raises(PublishError, match="sha256"):
        publish_version(tampered, city=cast.owner_city)
    assert not ScenarioPackage.objects.exists()
    assert not PackageVersion.objects.exists()


def test_garbage_is_refused_with_a_clear_error(cast):
    with pytest.raises(PublishError):
        publish_version(b"this is not a zip", city=cast.owner_city)
    assert not ScenarioPackage.objects.exists()
