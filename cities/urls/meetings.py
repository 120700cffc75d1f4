"""meetings URLs (filled in by the meetings work)."""

urlpatterns = []
