from django.contrib import admin

from .models import City, Technician


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ["name", "ine_code", "province", "region", "population"]
    search_fields = ["name", "ine_code", "province"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Technician)
class TechnicianAdmin(admin.ModelAdmin):
    list_display = ["user", "city", "role", "approved"]
    list_filter = ["role", "approved", "city"]
    search_fields = ["user__email", "user__username", "city__name"]
    autocomplete_fields = ["city"]
