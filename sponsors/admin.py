from django.contrib import admin

from sponsors.models import Program, Sponsor


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
