"""Pages of metering: review (filled by its module)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
