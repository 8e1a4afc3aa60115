"""RFPs, proposals, contracts, milestones, change orders and invoices (later issues)."""
