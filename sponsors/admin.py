from django.contrib import admin

from sponsors.models import Program, QualificationDocument, Shortlist, ShortlistEntry, Sponsor, VendorQualification


class ProgramInline(admin.TabularInline):
    model = Program
    extra = 0


@admin.register(Sponsor)
class SponsorAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "country", "default_currency"]
    list_filter = ["type", "country"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ProgramInline]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "sponsor", "phase", "budget_cap", "budget_currency"]
    list_filter = ["phase", "sponsor"]
    search_fields = ["code", "name", "therapeutic_area"]


class QualificationDocumentInline(admin.TabularInline):
    model = QualificationDocument
    extra = 0
    fields = ["title", "file", "uploaded_by", "created"]
    readonly_fields = ["uploaded_by", "created"]


@admin.register(VendorQualification)
class VendorQualificationAdmin(admin.ModelAdmin):
    list_display = ["vendor", "sponsor", "status", "risk", "last_audit_on", "next_audit_due"]
    list_filter = ["status", "risk", "sponsor"]
    search_fields = ["vendor__name", "sponsor__name", "msa_reference"]
    autocomplete_fields = ["vendor", "sites"]
    filter_horizontal = ["categories"]
    inlines = [QualificationDocumentInline]


class ShortlistEntryInline(admin.TabularInline):
    model = ShortlistEntry
    extra = 0
    autocomplete_fields = ["vendor"]
    readonly_fields = ["added_by", "added_at"]


@admin.register(Shortlist)
class ShortlistAdmin(admin.ModelAdmin):
    list_display = ["name", "sponsor", "updated"]
    list_filter = ["sponsor"]
    search_fields = ["name", "sponsor__name"]
    inlines = [ShortlistEntryInline]
