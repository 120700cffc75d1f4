"""The permission matrix of every twins page and API endpoint, with the whole cast."""

import pytest
from django.test import Client
from django.urls import reverse

from twins.models import ScenarioRun

CAST = ["coordinator", "owner", "other", "anonymous"]


def package_url(version) -> str:
    package = version.package
    return reverse("twins:package-detail", args=[package.owner_city.slug, package.slug])


def run_url(version) -> str:
    package = version.package
    return reverse("twins:run-create", args=[package.owner_city.slug, package.slug, version.pk])


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 200), ("other", 200), ("anonymous", 200)]
)
def test_public_package_page_is_open_to_everyone(cast, published, who, status):
    assert cast.client(who).get(package_url(published)).status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 200), ("other", 404), ("anonymous", 404)]
)
def test_private_package_page_is_hidden_outside_its_city(cast, private_version, who, status):
    assert cast.client(who).get(package_url(private_version)).status_code == status


@pytest.mark.parametrize("who", CAST)
def test_package_list_shows_private_packages_only_to_their_city(cast, private_version, who):
    body = cast.client(who).get(reverse("twins:package-list")).content.decode()
    visible = who in {"coordinator", "owner"}
    assert (private_version.package.title in body) is visible


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 302), ("other", 403), ("anonymous", 302)]
)
def test_only_the_owning_city_and_coordinators_start_runs(cast, published, who, status):
    response = cast.client(who).post(run_url(published), {"relative_gap": "0.001"})
    assert response.status_code == status
    runs = ScenarioRun.objects.filter(version=published)
    if who in {"coordinator", "owner"}:
        assert runs.get().parameters == {"relative_gap": 0.001}
        assert response["Location"] == runs.get().get_absolute_url()
    else:
        assert not runs.exists()
        if who == "anonymous":
            assert reverse("account_login") in response["Location"]


def test_unapproved_technician_cannot_start_runs(cast, published, unapproved_technician):
    client = Client()
    client.force_login(unapproved_technician)
    assert client.post(run_url(published)).status_code == 403


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 200), ("other", 404), ("anonymous", 404)]
)
def test_run_page_of_a_private_package_is_hidden_outside_its_city(
    cast, private_version, who, status
):
    run = ScenarioRun.objects.create(version=private_version)
    assert cast.client(who).get(run.get_absolute_url()).status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 200), ("other", 200), ("anonymous", 302)]
)
def test_publish_page_needs_an_account(cast, who, status):
    assert cast.client(who).get(reverse("twins:package-publish")).status_code == status


def test_technician_cannot_publish_for_another_city(cast, sioux_zip):
    client = cast.client("other")
    with sioux_zip.open("rb") as archive:
        response = client.post(
            reverse("twins:package-publish"),
            {"archive": archive, "visibility": "public", "city": cast.owner_city.pk},
        )
    assert response.status_code == 403
    assert not cast.owner_city.packages.exists()


def test_technician_publishes_for_own_city(cast, sioux_zip):
    client = cast.client("owner")
    with sioux_zip.open("rb") as archive:
        response = client.post(
            reverse("twins:package-publish"), {"archive": archive, "visibility": "network"}
        )
    package = cast.owner_city.packages.get()
    assert response.status_code == 302
    assert response["Location"] == package.get_absolute_url()
    assert package.visibility == "network"


def test_a_bad_upload_shows_the_error_and_stores_nothing(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = cast.client("owner")
    upload = SimpleUploadedFile("bad.zip", b"not a zip at all")
    response = client.post(
        reverse("twins:package-publish"), {"archive": upload, "visibility": "public"}
    )
    assert response.status_code == 200
    assert "zip" in response.content.decode().lower()
    assert not cast.owner_city.packages.exists()


# --- API --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 201), ("owner", 201), ("other", 403), ("anonymous", 401)]
)
def test_api_run_creation_matrix(cast, published, who, status):
    response = cast.client(who).post(
        "/api/v1/runs/",
        {"version": published.pk, "parameters": {"max_iterations": 50}},
        content_type="application/json",
    )
    assert response.status_code == status, response.content
    assert ScenarioRun.objects.exists() is (status == 201)


@pytest.mark.parametrize(
    ("who", "count"), [("coordinator", 2), ("owner", 2), ("other", 1), ("anonymous", 1)]
)
def test_api_package_list_hides_private_packages(cast, published, private_version, who, count):
    response = cast.client(who).get("/api/v1/packages/")
    assert response.status_code == 200
    assert response.json()["count"] == count


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 200), ("other", 404), ("anonymous", 404)]
)
def test_api_run_of_private_package_is_hidden(cast, private_version, who, status):
    run = ScenarioRun.objects.create(version=private_version)
    client = cast.client(who)
    assert client.get(f"/api/v1/runs/{run.uuid}/").status_code == status
    assert client.get(f"/api/v1/runs/{run.uuid}/results/").status_code == status


def test_api_rejects_unknown_run_parameters_by_name(cast, published):
    response = cast.client("owner").post(
        "/api/v1/runs/",
        {"version": published.pk, "parameters": {"gap": 0.1}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "unknown parameter 'gap'" in response.content.decode()
    assert not ScenarioRun.objects.exists()


def test_api_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content  # Swagger UI comes from the installed sidecar


@pytest.mark.parametrize(
    "parameters",
    [{"max_iterations": 10.0}, {"relative_gap": float("nan")}, {"relative_gap": 0}],
    ids=["float-iterations", "nan-gap", "zero-gap"],
)
def test_api_refuses_parameters_that_would_crash_the_run(cast, published, parameters):
    # Regression: max_iterations 10.0 was stored and every run of it failed.
    import json

    response = cast.client("owner").post(
        "/api/v1/runs/",
        json.dumps({"version": published.pk, "parameters": parameters}, allow_nan=True),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not ScenarioRun.objects.exists()


def test_package_list_search_finds_by_title_and_by_city(cast, published):
    client = cast.client("anonymous")
    by_city = client.get(reverse("twins:package-list"), {"q": "granada"}).content.decode()
    assert published.package.title in by_city
    by_title = client.get(reverse("twins:package-list"), {"q": "no such package"}).content.decode()
    assert published.package.title not in by_title


@pytest.mark.parametrize("version", ["1.5", "1e400", "true", '"abc"'])
def test_api_refuses_a_version_that_is_not_a_whole_number(cast, published, version):
    # Regression: 1.5 ran version 1, and 1e400 gave a server error.
    body = f'{{"version": {version}, "parameters": {{}}}}'
    response = cast.client("owner").post("/api/v1/runs/", body, content_type="application/json")
    assert response.status_code == 400
    assert "version" in response.json()
    assert not ScenarioRun.objects.exists()
