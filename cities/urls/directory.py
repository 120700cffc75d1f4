"""directory URLs (filled in by the directory work)."""

urlpatterns = []
