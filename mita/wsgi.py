"""WSGI entry point for web processes (gunicorn mita.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mita.settings")
application = get_wsgi_application()

# Everything a request needs is loaded now, in each worker, not by its first request (the URLconf imports every app's
# views and builds the API's schemas: ~100 ms), and then frozen: the garbage collector's full collections no longer
# walk the ~190,000 objects of the loaded code, which otherwise stalled every thread of the worker for 50-110 ms at
# a time (docs/payments.md, "Fifth round").
get_resolver().url_patterns  # noqa: B018 (imports the URLconf)
gc.freeze()
