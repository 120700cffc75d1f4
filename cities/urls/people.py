"""people URLs (filled in by the people work)."""

urlpatterns = []
