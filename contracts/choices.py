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
    # Taken out of the contract by an approved change order; the row stays (its history, documents and
    # the change order item that names it), it is simply no longer owed.
    REMOVED = "removed", "Removed"


# A milestone that is done with: accepted, or removed by a change order. Neither is overdue or open.
CLOSED_MILESTONE_STATES = (MilestoneState.ACCEPTED, MilestoneState.REMOVED)


class Side(models.TextChoices):
    """The two parties of a contract: who proposes, signs or approves."""

    SPONSOR = "sponsor", "Sponsor"
    VENDOR = "vendor", "Vendor"


class SignatureMeaning(models.TextChoices):
    """What a signature means (21 CFR Part 11 §11.50(a)(3)): shown with it wherever it is displayed."""

    APPROVED_AS_SPONSOR = "approved_as_sponsor", "Approved as sponsor"
    ACCEPTED_AS_VENDOR = "accepted_as_vendor", "Accepted as vendor"
    CHANGE_APPROVED_AS_SPONSOR = "change_approved_as_sponsor", "Change order approved as sponsor"
    CHANGE_ACCEPTED_AS_VENDOR = "change_accepted_as_vendor", "Change order accepted as vendor"


class ChangeOrderState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ChangeOrderItemAction(models.TextChoices):
    ADD = "add", "Add milestone"
    CHANGE = "change", "Change milestone"
    REMOVE = "remove", "Remove milestone"


class InvoiceState(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    PAID = "paid", "Paid"
    REJECTED = "rejected", "Rejected"


# An invoice that counts: billed and not refused. A milestone is billed at most once by these.
LIVE_INVOICE_STATES = (InvoiceState.SUBMITTED, InvoiceState.APPROVED, InvoiceState.PAID)
# What *invoiced* means in the budget (SPEC §2): approved and paid invoices.
INVOICED_STATES = (InvoiceState.APPROVED, InvoiceState.PAID)


class TransferredActivity(models.TextChoices):
    """Trial-related activities a sponsor may transfer to a vendor (ICH E6(R3) §3.10 / E6(R2) 5.2): the
    controlled list of a work order's register. Whatever is not listed stays with the sponsor."""

    PROTOCOL_DEVELOPMENT = "protocol_development", "Protocol development"
    SITE_SELECTION = "site_selection", "Site feasibility and selection"
    SITE_MANAGEMENT = "site_management", "Site management and monitoring"
    INVESTIGATOR_PAYMENTS = "investigator_payments", "Investigator and site payments"
    DATA_MANAGEMENT = "data_management", "Data management"
    BIOSTATISTICS = "biostatistics", "Biostatistics and analysis"
    MEDICAL_MONITORING = "medical_monitoring", "Medical monitoring"
    SAFETY_REPORTING = "safety_reporting", "Safety reporting and pharmacovigilance"
    REGULATORY_SUBMISSIONS = "regulatory_submissions", "Regulatory and ethics submissions"
    MEDICAL_WRITING = "medical_writing", "Medical writing (CSR)"
    TRIAL_MASTER_FILE = "trial_master_file", "Trial master file"
    IP_MANAGEMENT = "ip_management", "Investigational product management"
    QUALITY_ASSURANCE = "quality_assurance", "Quality assurance and audits"
    MANUFACTURING = "manufacturing", "Manufacturing (API or drug product)"
    PACKAGING_LABELLING = "packaging_labelling", "Packaging and labelling"
    QC_TESTING = "qc_testing", "Quality control testing"
    BATCH_CERTIFICATION = "batch_certification", "Batch certification and release"
