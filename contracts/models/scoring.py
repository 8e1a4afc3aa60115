"""The sponsor's evaluation of proposals: one score per proposal, criterion and scorer."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from audit.tracking import HistoryMixin
from contracts.models.proposals import Proposal
from contracts.models.rfps import RFPCriterion, capped_text
from cro_cmo.models import BaseModel, VisibleQuerySet

SCORE_MIN = Decimal("0")
SCORE_MAX = Decimal("10")


class ProposalScoreQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        """The sponsor's people only, and only for proposals they may see (a sealed one once opened).
        Vendors never see any score, not even their own."""
        if user.sponsor_id is None:
            return self.none()
        return self.filter(proposal__in=Proposal.objects.for_user(user))


class ProposalScore(HistoryMixin, BaseModel):
    """One sponsor member's score (0–10) of one proposal against one evaluation criterion.

    Each scorer keeps their own sheet (``unique (proposal, criterion, scorer)``); the comparison shows
    the average of the sheets per criterion and the weighted total. Written only by
    ``contracts.services.score_save``, which checks that the criterion belongs to the proposal's RFP.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(RFPCriterion, on_delete=models.CASCADE, related_name="scores")
    scorer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
        help_text="0 (fails the criterion) to 10 (best possible).",
    )
    comment = capped_text(2_000)

    objects = ProposalScoreQuerySet.as_manager()

    class Meta:
        ordering = ["proposal", "criterion", "scorer"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "criterion", "scorer"],
                name="score_one_per_proposal_criterion_scorer",
                violation_error_message="You have already scored this proposal on this criterion.",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=SCORE_MIN) & Q(score__lte=SCORE_MAX),
                name="score_between_0_and_10",
                violation_error_message="A score is between 0 and 10.",
            ),
        ]

    def __str__(self):
        return f"{self.score} for {self.criterion} ({self.scorer})"

    def history_owners(self) -> dict[str, set[int]]:
        # The sponsor's record only: the vendor never reads its scores, nor their history.
        return {"sponsor": {self.proposal.rfp.sponsor_id}}
