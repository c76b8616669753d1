import matplotlib

from workbench.privacy.panel import PrivacyPanel

matplotlib.use("Agg")


def test_panel_runs_an_audit_with_mitigations():
    panel = PrivacyPanel()
    assert "PrivacyPanel" in repr(panel)
    panel.dataset.value = "wine"
    panel.model.value = "decision_tree"
    panel.max_records.value = 100
    panel.n_shadows.value = 4
    panel.attacks.value = ("loss", "lira_online")
    panel.mitigations.value = True
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    r = panel.result
    assert r is not None and r.n_records == 100 and r.n_models == 5
    assert list(r.metrics["attack"]) == ["loss", "lira_online"]
    assert r.mitigations is not None and len(r.mitigations.table) == 3
    assert len(panel.figures) == 2
    assert "Done" in panel.status.value


def test_panel_shows_bad_input_as_an_error():
    panel = PrivacyPanel()
    panel.n_shadows.value = 1
    panel.max_records.value = 40
    panel.run_button.click()
    assert panel.result is None
    assert "at least 4 shadow models" in panel.last_error
    panel.attacks.value = ()
    panel.run_button.click()
    assert "attacks is empty" in panel.last_error
