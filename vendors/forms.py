from django import forms

from vendors.catalogue import LIMITS
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site, Vendor


class DateInput(forms.DateInput):
    input_type = "date"


class VendorProfileForm(forms.ModelForm):
    class Meta:
        model = Vendor
        fields = ["name", "kind", "hq_country", "description", "website", "founded_year", "headcount_band"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "city", "country", "activities"]
        widgets = {"activities": forms.Textarea(attrs={"rows": 3})}


class OfferingForm(forms.ModelForm):
    class Meta:
        model = ServiceOffering
        fields = ["category", "capabilities", "description", "lead_time_weeks", "price_min", "price_max", "currency",
                  "sites", "is_active"]  # fmt: skip
        widgets = {
            "capabilities": forms.CheckboxSelectMultiple,
            "sites": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def limit_choices(self, user, instance):
        """Categories of the vendor's side(s); the vendor's own sites; capabilities of those categories.

        The capabilities are shown grouped by category (``capability_groups``); static/js/app.js shows only
        the chosen category's group, and ``ServiceOffering.clean_m2m`` refuses any other on save.
        """
        vendor = instance.vendor if instance.vendor_id else user.vendor
        self.fields["category"].queryset = ServiceCategory.objects.filter(side__in=vendor.sides)
        self.fields["sites"].queryset = Site.objects.filter(vendor=vendor)
        self.fields["capabilities"].queryset = (
            Capability.objects.filter(category__side__in=vendor.sides)
            .select_related("category")
            .order_by("category__position", "name")
        )
        self.fields["capabilities"].label_from_instance = lambda c: c.name
        self.fields[
            "capabilities"
        ].help_text = "Grouped by category: tick only capabilities of the category chosen above; others are refused."

    def capability_groups(self) -> list[tuple]:
        """(category, [checkbox subwidgets]) in catalogue order, for the grouped capability list."""
        groups: dict[int, tuple] = {}
        for choice in self["capabilities"]:
            capability = choice.data["value"].instance
            groups.setdefault(capability.category_id, (capability.category, []))[1].append(choice)
        return list(groups.values())


class CertificationForm(forms.ModelForm):
    class Meta:
        model = Certification
        fields = ["type", "authority", "number", "issued_on", "expires_on", "site", "document"]
        widgets = {
            "issued_on": DateInput,
            "expires_on": DateInput,
            "document": forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
        }

    def limit_choices(self, user, instance):
        vendor = instance.vendor if instance.vendor_id else user.vendor
        self.fields["site"].queryset = Site.objects.filter(vendor=vendor)


class CatalogueUploadForm(forms.Form):
    file = forms.FileField(
        label="Catalogue file (CSV or XLSX)",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
        help_text=f"{LIMITS}. One row per offering. Columns: category, capabilities, description, lead_time_weeks, "
        "price_min, price_max, currency, sites, active. Download the current catalogue for a ready-made file.",
    )
