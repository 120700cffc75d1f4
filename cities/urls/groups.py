"""groups URLs (filled in by the groups work)."""

urlpatterns = []
