"""States and kinds of the sourcing and contract records (the product's words, SPEC §2)."""

from django.db import models


class RFPState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    CLOSED = "closed", "Closed"
    AWARDED = "awarded", "Awarded"
    CANCELLED = "cancelled", "Cancelled"


class InvitationState(models.TextChoices):
    INVITED = "invited", "Invited"
    DECLINED = "declined", "Declined"
    RESPONDED = "responded", "Responded"


class ProposalState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    SHORTLISTED = "shortlisted", "Shortlisted"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


# A vendor's proposal that still counts: at most one per RFP and vendor (a database constraint).
LIVE_PROPOSAL_STATES = (ProposalState.DRAFT, ProposalState.SUBMITTED, ProposalState.SHORTLISTED, ProposalState.ACCEPTED)
# What the sponsor may see of an RFP's proposals: submitted ones onwards (never drafts or withdrawn ones).
SPONSOR_VISIBLE_PROPOSAL_STATES = (
    ProposalState.SUBMITTED, ProposalState.SHORTLISTED, ProposalState.ACCEPTED, ProposalState.REJECTED,
)  # fmt: skip


class ContractKind(models.TextChoices):
    MSA = "msa", "Master services agreement"
    WORK_ORDER = "work-order", "Work order"
    # An award with no active MSA between the parties becomes a stand-alone agreement (SPEC §2 "Award").
    STANDALONE = "standalone", "Stand-alone agreement"
    QUALITY_AGREEMENT = "quality-agreement", "Quality agreement"
    CDA = "cda", "Confidential disclosure agreement"


CONTRACT_NUMBER_PREFIX = {
    ContractKind.MSA: "MSA",
    ContractKind.WORK_ORDER: "WO",
    ContractKind.STANDALONE: "SA",
    ContractKind.QUALITY_AGREEMENT: "QA",
    ContractKind.CDA: "CDA",
}


class ContractState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_SIGNATURE = "pending_signature", "Pending signature"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    TERMINATED = "terminated", "Terminated"


class MilestoneState(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
