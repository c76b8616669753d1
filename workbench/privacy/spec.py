"""Launcher entry of the privacy audit tool (the ``workbench.tools`` entry point)."""

from workbench.core.registry import ToolSpec

SPEC = ToolSpec(
    name="privacy",
    title="Privacy audit",
    description="Membership-inference attacks and per-record memorization risk, with mitigations.",
    panel="workbench.privacy.panel:PrivacyPanel",
    notebook="06_privacy_audit.ipynb",
    order=60,
)
