"""Privacy audit: Membership-inference attacks and per-record memorization risk, with mitigations."""
