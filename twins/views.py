"""Pages for scenario packages and runs. Each view checks permission explicitly."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cities.models import city_of, is_coordinator

from .forms import PublishForm, RunForm
from .models import PackageVersion, ScenarioPackage, ScenarioRun
from .permissions import can_manage_package, can_publish_for, can_view_package, visible_packages
from .services import PublishError, publish_version, start_run


def package_list(request):
    packages = (
        visible_packages(request.user)
        .select_related("owner_city")
        .annotate(version_count=Count("versions", distinct=True))
        .order_by("owner_city__name", "title")
    )
    query = request.GET.get("q", "").strip()
    if query:
        packages = packages.filter(title__icontains=query) | packages.filter(
            owner_city__name__icontains=query
        )
    context = {"packages": packages, "query": query, "can_publish": can_publish_any(request.user)}
    return render(request, "twins/package_list.html", context)


def can_publish_any(user) -> bool:
    return is_coordinator(user) or city_of(user) is not None


def get_visible_package(request, city_slug: str, slug: str) -> ScenarioPackage:
    package = get_object_or_404(
        ScenarioPackage.objects.select_related("owner_city"), owner_city__slug=city_slug, slug=slug
    )
    if not can_view_package(request.user, package):
        raise Http404()  # do not reveal that a private package exists
    return package


def package_detail(request, city_slug: str, slug: str):
    package = get_visible_package(request, city_slug, slug)
    recent_runs = ScenarioRun.objects.select_related("version").order_by("-created_at")
    versions = package.versions.prefetch_related(Prefetch("runs", queryset=recent_runs))
    context = {
        "package": package,
        "versions": versions,
        "can_manage": can_manage_package(request.user, package),
        "run_form": RunForm(),
    }
    return render(request, "twins/package_detail.html", context)


@login_required
def package_publish(request):
    if not can_publish_any(request.user):
        raise PermissionDenied(_("Only approved technicians and coordinators publish packages."))
    form = PublishForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        city = form.cleaned_data["city"] or city_of(request.user)
        if city is None or not can_publish_for(request.user, city):
            raise PermissionDenied(_("You may publish only for your own city."))
        try:
            version, created = publish_version(
                form.cleaned_data["archive"].read(),
                city=city,
                user=request.user,
                visibility=form.cleaned_data["visibility"],
            )
        except PublishError as exc:
            form.add_error("archive", str(exc))
        else:
            if not created:
                messages.info(request, _("This content was already published as %s.") % version)
            return redirect(version.package)
    return render(request, "twins/package_publish.html", {"form": form})


@require_POST
@login_required
def run_create(request, city_slug: str, slug: str, version_id: int):
    package = get_visible_package(request, city_slug, slug)
    if not can_manage_package(request.user, package):
        raise PermissionDenied(_("Only the owning city's technicians and coordinators run it."))
    version = get_object_or_404(PackageVersion, pk=version_id, package=package)
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Invalid run parameters: %s") % form.errors.as_text())
        return redirect(package)
    try:
        run = start_run(version, user=request.user, parameters=form.overrides())
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(package)
    return redirect(run)


def get_visible_run(request, run_uuid) -> ScenarioRun:
    run = get_object_or_404(
        ScenarioRun.objects.select_related("version__package__owner_city"), uuid=run_uuid
    )
    if not can_view_package(request.user, run.version.package):
        raise Http404()
    return run


def run_detail(request, run_uuid):
    run = get_visible_run(request, run_uuid)
    return render(request, "twins/run_detail.html", {"run": run, "package": run.version.package})


def run_links(request, run_uuid, fmt: str):
    """The per-link results of a finished run, as CSV or GeoJSON."""
    run = get_visible_run(request, run_uuid)
    stored = run.links_file if fmt == "csv" else run.geojson_file
    if not stored:
        raise Http404()
    filename = f"{run.version.package.slug}-run{run.pk}-links.{fmt}"
    return FileResponse(stored.open("rb"), as_attachment=True, filename=filename)
