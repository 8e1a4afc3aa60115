"""Sourcing (RFPs, invitations, Q&A, proposals) and the contracts an award creates.

Split by stage so each file stays readable; import models from here.
"""

from contracts.models.agreements import Contract, Milestone
from contracts.models.documents import DOCUMENT_TARGETS, Document
from contracts.models.execution import ChangeOrder, ChangeOrderItem, ContractActivity, Invoice, Signature
from contracts.models.proposals import Proposal, ProposalLineItem, ProposedMilestone
from contracts.models.rfps import RFP, RFP_SPONSOR_ONLY_FIELDS, Invitation, Question, RFPCriterion
from contracts.models.scoring import ProposalScore

__all__ = [
    "DOCUMENT_TARGETS",
    "RFP",
    "RFP_SPONSOR_ONLY_FIELDS",
    "ChangeOrder",
    "ChangeOrderItem",
    "Contract",
    "ContractActivity",
    "Document",
    "Invitation",
    "Invoice",
    "Milestone",
    "Proposal",
    "ProposalLineItem",
    "ProposalScore",
    "ProposedMilestone",
    "Question",
    "RFPCriterion",
    "Signature",
]
