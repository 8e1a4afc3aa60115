from django.db import models


class SponsorType(models.TextChoices):
    PHARMA = "pharma", "Pharma"
    BIOTECH = "biotech", "Biotech"
    MEDTECH = "medtech", "Medtech"


class Phase(models.TextChoices):
    PRECLINICAL = "preclinical", "Preclinical"
    PHASE_1 = "phase-1", "Phase I"
    PHASE_2 = "phase-2", "Phase II"
    PHASE_3 = "phase-3", "Phase III"
    FILED = "filed", "Filed"
    MARKETED = "marketed", "Marketed (Phase IV)"


class QualificationStatus(models.TextChoices):
    NOT_QUALIFIED = "not_qualified", "Not qualified"
    IN_QUALIFICATION = "in_qualification", "In qualification"
    APPROVED = "approved", "Approved"
    CONDITIONALLY_APPROVED = "conditionally_approved", "Conditionally approved"
    DISQUALIFIED = "disqualified", "Disqualified"


# The statuses under which a sponsor counts a vendor as "qualified by us" (the directory facet).
QUALIFIED_STATUSES = (QualificationStatus.APPROVED, QualificationStatus.CONDITIONALLY_APPROVED)


class RiskRating(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
