from django.contrib import admin
from django.urls import include, path

from dashboard.views import dashboard

admin.site.site_header = "SmartPlex"
admin.site.site_title = "SmartPlex"
admin.site.index_title = "Library, syncs and deletions"

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("admin/", admin.site.urls),
    path("deletion/", include("deletion.urls")),
    path("syncing/", include("syncing.urls")),
    path("notifications/", include("notifications.urls")),
    path("settings/", include("dashboard.urls")),
]
