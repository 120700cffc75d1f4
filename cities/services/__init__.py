"""Domain operations of the cities app: views and API endpoints call these after checking
permission (cities/permissions.py); the rules themselves live here and on the models."""
