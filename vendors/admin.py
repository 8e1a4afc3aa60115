from django.contrib import admin

from vendors.models import Vendor


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "hq_country", "headcount_band", "verified_at"]
    list_filter = ["kind", "hq_country", "headcount_band"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
