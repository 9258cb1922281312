"""Pages of metering: meters (filled by its module)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
