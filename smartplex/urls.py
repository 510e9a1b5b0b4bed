from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "SmartPlex"
admin.site.site_title = "SmartPlex"
admin.site.index_title = "Library, syncs and deletions"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("deletion/", include("deletion.urls")),
    path("syncing/", include("syncing.urls")),
    path("notifications/", include("notifications.urls")),
]
