"""Pages of metering: installations (filled by its module)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
