"""The comparison of an RFP's proposals and the sponsor's scores, as actions on ``rfps``."""


class RFPComparisonActions:
    """Mixed into ``RFPViewSet``: ``GET rfps/{id}/comparison/`` and the scoring action."""
