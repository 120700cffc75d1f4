import pytest

from tests.conftest import pack_tntp
from twins.models import Visibility
from twins.services import publish_version


@pytest.fixture
def sioux_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("pkg") / "siouxfalls.zip"
    return pack_tntp("SiouxFalls", out, "--close", "10-16", "--gap", "1e-4")


@pytest.fixture
def published(cast, sioux_zip):
    """A public SiouxFalls package of the owner city, and its version."""
    version, _ = publish_version(sioux_zip.read_bytes(), city=cast.owner_city, user=cast.owner)
    return version


@pytest.fixture
def private_version(cast, tmp_path):
    out = pack_tntp("SiouxFalls", tmp_path / "private.zip", "--name", "private-sioux")
    version, _ = publish_version(out.read_bytes(), city=cast.owner_city, visibility=Visibility.CITY)
    return version
