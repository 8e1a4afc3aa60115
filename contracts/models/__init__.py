"""Sourcing (RFPs, invitations, Q&A, proposals) and the contracts an award creates.

Split by stage so each file stays readable; import models from here.
"""

from contracts.models.agreements import Contract, Milestone
from contracts.models.proposals import Proposal, ProposalLineItem, ProposedMilestone
from contracts.models.rfps import RFP, RFP_SPONSOR_ONLY_FIELDS, Invitation, Question, RFPCriterion

__all__ = [
    "RFP",
    "RFP_SPONSOR_ONLY_FIELDS",
    "Contract",
    "Invitation",
    "Milestone",
    "Proposal",
    "ProposalLineItem",
    "ProposedMilestone",
    "Question",
    "RFPCriterion",
]
