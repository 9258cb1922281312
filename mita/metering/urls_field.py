"""Pages of metering: field (filled by its module)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
