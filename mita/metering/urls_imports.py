"""Pages of metering: imports (files of readings, reading books)."""

from django.urls import URLPattern, path

from mita.metering import views_imports

urlpatterns: list[URLPattern] = [
    path("reading-imports/", views_imports.reading_import_list, name="reading_import_list"),
    path("reading-imports/new/", views_imports.reading_import_upload, name="reading_import_upload"),
    path(
        "reading-imports/<int:reading_import_id>/",
        views_imports.reading_import_detail,
        name="reading_import_detail",
    ),
    path(
        "reading-imports/<int:reading_import_id>/confirm/",
        views_imports.reading_import_confirm_view,
        name="reading_import_confirm",
    ),
    path(
        "reading-imports/<int:reading_import_id>/report.csv",
        views_imports.reading_import_report,
        name="reading_import_report",
    ),
    path("reading-books/", views_imports.reading_book_export, name="reading_book_export"),
]
