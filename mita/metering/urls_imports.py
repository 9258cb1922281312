"""Pages of metering: imports (filled by its module)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
