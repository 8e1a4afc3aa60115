from django.contrib import admin, messages

from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site, Vendor
from vendors.services import vendor_verify


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "hq_country", "headcount_band", "verified_at", "updated"]
    list_filter = ["kind", "hq_country", "headcount_band", ("verified_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["verified_at", "search_tags", "search_text"]
    inlines = [SiteInline]
    actions = ["verify", "unverify"]

    @admin.action(description="Verify the selected vendors (badge on profile and directory)")
    def verify(self, request, queryset):
        for vendor in queryset:
            vendor_verify(actor=request.user, vendor=vendor, verified=True)
        messages.success(request, f"{queryset.count()} vendor(s) verified.")

    @admin.action(description="Withdraw verification")
    def unverify(self, request, queryset):
        for vendor in queryset:
            vendor_verify(actor=request.user, vendor=vendor, verified=False)
        messages.success(request, f"Verification withdrawn from {queryset.count()} vendor(s).")


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(admin.ModelAdmin):
    """The eight categories are fixed by a data migration: staff may edit texts, not codes."""

    list_display = ["code", "name", "side", "position"]
    readonly_fields = ["code"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Capability)
class CapabilityAdmin(admin.ModelAdmin):
    """The capability vocabulary: staff extend it here."""

    list_display = ["name", "slug", "category"]
    list_filter = ["category"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ServiceOffering)
class ServiceOfferingAdmin(admin.ModelAdmin):
    list_display = ["vendor", "category", "lead_time_weeks", "price_min", "price_max", "currency", "is_active"]
    list_filter = ["category", "is_active", "currency"]
    search_fields = ["vendor__name", "description"]
    raw_id_fields = ["vendor"]
    filter_horizontal = ["capabilities", "sites"]


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["vendor", "type", "authority", "number", "issued_on", "expires_on"]
    list_filter = ["type", "authority"]
    search_fields = ["vendor__name", "number"]
    raw_id_fields = ["vendor", "site"]
    date_hierarchy = "expires_on"


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "city", "country"]
    list_filter = ["country"]
    search_fields = ["name", "city", "vendor__name"]
    raw_id_fields = ["vendor"]
