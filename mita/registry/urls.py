from django.urls import path

from mita.registry.views import clusters, contracts, onboarding, organisations

app_name = "registry"
urlpatterns = [
    path("workspace/", organisations.workspace_switch, name="workspace_switch"),
    path("operators/", organisations.operator_list, name="operator_list"),
    path("operators/<int:operator_id>/", organisations.operator_detail, name="operator_detail"),
    *onboarding.urlpatterns,
    *clusters.urlpatterns,
    *contracts.urlpatterns,
]
