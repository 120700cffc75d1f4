"""calendars URLs (filled in by the calendars work)."""

urlpatterns = []
