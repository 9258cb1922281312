from django.urls import path

from mita.stock import views

app_name = "stock"
urlpatterns = [
    path("materials/", views.material_list, name="material_list"),
    path("materials/new/", views.material_create_view, name="material_create"),
    path("materials/<int:material_id>/", views.material_edit, name="material_edit"),
]
