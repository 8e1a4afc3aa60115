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
