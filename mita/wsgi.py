"""WSGI entry point for web processes (gunicorn mita.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mita.settings")
application = get_wsgi_application()
