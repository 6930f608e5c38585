"""Executes examples/compose_transforms.ipynb on CPU (the notebook is part of the documentation; CI runs it)."""

import os

import pytest

NOTEBOOK = os.path.join(os.path.dirname(__file__), "..", "examples", "compose_transforms.ipynb")


def test_compose_transforms_notebook_runs():
    nbformat = pytest.importorskip("nbformat", reason="nbformat missing: pip install -e '.[test]'")
    nbclient = pytest.importorskip("nbclient", reason="nbclient missing: pip install -e '.[test]'")
    pytest.importorskip("ipykernel", reason="ipykernel missing: pip install -e '.[test]'")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_backup = os.environ.get("JAX_PLATFORMS")
    os.environ["JAX_PLATFORMS"] = "cpu"
    try:
        client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                         resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}})
        client.execute()
    finally:
        if env_backup is None:
            os.environ.pop("JAX_PLATFORMS", None)
        else:
            os.environ["JAX_PLATFORMS"] = env_backup
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    for name in ("pcgrad", "cagrad", "famo", "imtl_g", "aligned_mtl", "upgrad", "nash_mtl"):
        assert name in outputs
    assert "conflicting pairs" in outputs
