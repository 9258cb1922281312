"""The registry's pages, one module per part; each module's urlpatterns are joined in mita/registry/urls.py."""
