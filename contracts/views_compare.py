"""The comparison page of an RFP's proposals, its XLSX export and the score sheets sponsor members fill in.

Sponsor side only: the RFP is looked up among the sponsor's RFPs (``sponsor_rfps``), so a vendor — who may
read the RFP itself — gets a 404 here. Viewers read the comparison and the scores; members and admins
also keep their own score sheet per proposal (``contracts.services.scoring.scores_save``). The scoring
form works without JavaScript (post, redirect back); with htmx it swaps the comparison in place.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from contracts.comparison import rfp_comparison, sponsor_rfps
from contracts.comparison_xlsx import XLSX_CONTENT_TYPE, comparison_xlsx
from contracts.models import Proposal
from contracts.services.scoring import SCORABLE_PROPOSAL_STATES, scores_save, sheet_field
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.models import CHANGE
from cro_cmo.services import TransitionError
from vendors.views import sponsor_shortlists

COMMENT_MAX = 2_000


class ScoreSheetForm(forms.Form):
    """One person's scores of one proposal: a score (0–10, one decimal) and a comment per criterion.

    Fields are plain text: the service validates the score (one message for the page and the API).
    """

    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            self.fields[sheet_field("score", criterion.pk)] = forms.CharField(
                label=f"{criterion.name} (weight {criterion.weight})", required=False, max_length=5,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "pattern": r"(10(\.0)?|[0-9](\.[0-9])?)",
                                              "size": 4, "autocomplete": "off"}),
            )  # fmt: skip
            self.fields[sheet_field("comment", criterion.pk)] = forms.CharField(
                label=f"Comment on {criterion.name}",
                required=False,
                max_length=COMMENT_MAX,
                widget=forms.TextInput(attrs={"placeholder": "Comment (optional)"}),
            )

    def rows(self):
        """(criterion, score field, comment field) for the template."""
        return [(c, self[sheet_field("score", c.pk)], self[sheet_field("comment", c.pk)]) for c in self.criteria]

    def sheet(self) -> dict:
        data = self.cleaned_data
        return {
            c.pk: (data.get(sheet_field("score", c.pk), "").strip(), data.get(sheet_field("comment", c.pk), ""))
            for c in self.criteria
        }


def _initial(column) -> dict:
    initial = {}
    for score in column.scores:
        if score.mine is not None:
            initial[sheet_field("score", score.criterion_id)] = f"{score.mine}"
            initial[sheet_field("comment", score.criterion_id)] = score.my_comment
    return initial


def _render(request, rfp, bound=None, status_text="", status_ok=True):
    """The page; ``bound`` is a submitted sheet form (with its errors) for one proposal."""
    user = request.user
    comparison = rfp_comparison(rfp, user)
    can_score = comparison.scorable and user.can_act and user.sponsor_id == rfp.sponsor_id
    sheets = []
    if can_score:
        for column in comparison.proposals:
            if column.state not in SCORABLE_PROPOSAL_STATES:
                continue
            if bound is not None and bound[0] == column.id:
                form = bound[1]
            else:
                form = ScoreSheetForm(initial=_initial(column), criteria=comparison.criteria, prefix=f"p{column.id}")
            sheets.append((column, form))
    context = {
        "object": rfp,
        "comparison": comparison,
        "sheets": sheets,
        "can_score": can_score,
        "shortlists": sponsor_shortlists(user),
        "status_text": status_text,
        "status_ok": status_ok,
    }
    return render(request, "contracts/rfp_compare.html", context)


@login_required
def rfp_compare(request, pk):
    rfp = get_object_or_404(sponsor_rfps(request.user).select_related("sponsor", "program"), pk=pk)
    return _render(request, rfp)


@login_required
def rfp_compare_export(request, pk):
    """The comparison as an XLSX workbook: the same content as the page, and each scorer's sheet."""
    rfp = get_object_or_404(sponsor_rfps(request.user).select_related("sponsor", "program"), pk=pk)
    response = HttpResponse(comparison_xlsx(rfp_comparison(rfp, request.user)), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="rfp-{rfp.pk}-comparison.xlsx"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def proposal_score(request, pk):
    """Save the signed-in member's score sheet of one proposal (all rows or none)."""
    if not request.user.can_act:
        raise PermissionDenied(VIEWER_READ_ONLY)
    proposal = get_object_or_404(
        Proposal.objects.for_user(request.user, CHANGE)
        .filter(rfp__in=sponsor_rfps(request.user, CHANGE))
        .select_related("rfp__sponsor", "rfp__program", "vendor"),
        pk=pk,
    )
    rfp = proposal.rfp
    criteria = list(rfp.criteria.order_by("position", "id"))
    form = ScoreSheetForm(request.POST, criteria=criteria, prefix=f"p{proposal.pk}")
    compare_url = reverse("rfp-compare", args=[rfp.pk])
    if form.is_valid():
        try:
            saved, cleared = scores_save(actor=request.user, proposal=proposal, sheet=form.sheet())
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        except (TransitionError, PermissionDenied) as exc:
            text = str(exc.args[0]) if exc.args else str(exc)
            if request.htmx:
                return _render(request, rfp, status_text=text, status_ok=False)
            messages.error(request, text)
            return redirect(compare_url)
        else:
            if saved or cleared:
                text = f"Your scores for {proposal.vendor.name} are saved."
            else:
                text = "Nothing to save: enter a score from 0 to 10 for at least one criterion."
            if request.htmx:
                return _render(request, rfp, status_text=text)
            (messages.success if saved or cleared else messages.info)(request, text)
            return redirect(f"{compare_url}#sheet-{proposal.pk}")
    text = f"Your scores for {proposal.vendor.name} were not saved: see the sheet below."
    return _render(request, rfp, bound=(proposal.pk, form), status_text=text, status_ok=False)
