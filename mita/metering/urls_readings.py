"""Pages of metering: readings (filled by its module)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
