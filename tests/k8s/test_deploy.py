"""deploy/ registers the katib-nas images in Katib's katib-config, with limits that fit them."""

from __future__ import annotations

import re

import yaml

from katib_nas.manifests.trial_images import SUGGESTION_IMAGES
from tests.k8s.manifest_files import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
UNITS = {"": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}
MIB = 2**20

# What the services need (docs/katib.md): ENAS at most 250 MiB anonymous memory, Katib's own
# ENAS limit is 400Mi; DARTS measured 38 MiB resident.
MEMORY_LIMITS_AT_LEAST = {"enas": 400 * MIB, "darts": 64 * MIB}


def quantity(text: str) -> int:
    """Bytes in a Kubernetes memory quantity such as ``400Mi``."""
    match = re.fullmatch(r"(\d+)([KMG]i?|k|)", str(text))
    assert match, f"not a memory quantity: {text!r}"
    return int(match.group(1)) * UNITS[match.group(2)]


def katib_config() -> dict:
    return yaml.safe_load((DEPLOY / "katib-config.yaml").read_text())


def suggestion(algorithm: str) -> dict:
    entries = katib_config()["runtime"]["suggestions"]
    return next(e for e in entries if e["algorithmName"] == algorithm)


def test_the_overlay_replaces_katibs_config_map_with_our_file() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())

    (generator,) = kustomization["configMapGenerator"]

    assert kustomization["namespace"] == "kubeflow"
    assert generator["name"] == "katib-config"
    assert generator["behavior"] == "replace"
    assert generator["options"]["disableNameSuffixHash"] is True
    assert generator["files"] == ["katib-config.yaml"]
    (base,) = kustomization["resources"]
    assert re.search(r"katib-standalone\?ref=v\d+\.\d+\.\d+$", base), "pin Katib's release"


def test_katib_config_is_a_katib_config_with_one_entry_per_algorithm() -> None:
    config = katib_config()
    names = [e["algorithmName"] for e in config["runtime"]["suggestions"]]

    assert config["apiVersion"] == "config.kubeflow.org/v1beta1"
    assert config["kind"] == "KatibConfig"
    assert len(names) == len(set(names))
    assert {"enas", "darts"} <= set(names)


def test_enas_and_darts_run_our_images_with_limits_that_fit_them() -> None:
    for algorithm, image in SUGGESTION_IMAGES.items():
        entry = suggestion(algorithm)
        limits = entry["resources"]["limits"]
        requests = entry["resources"]["requests"]

        assert entry["image"] == image
        assert quantity(limits["memory"]) >= MEMORY_LIMITS_AT_LEAST[algorithm]
        assert quantity(requests["memory"]) <= quantity(limits["memory"])
        assert entry.get("volumeMountPath", "/opt/katib/data") == "/opt/katib/data"


def test_no_entry_declares_the_port_katib_adds_itself() -> None:
    for entry in katib_config()["runtime"]["suggestions"]:
        for port in entry.get("ports", []):
            assert port.get("containerPort") != 6789 and port.get("name") != "suggestion-api"


def test_every_image_in_katib_config_is_pinned() -> None:
    config = katib_config()
    runtime = config["runtime"]
    entries = runtime["suggestions"] + runtime["metricsCollectors"] + runtime["earlyStoppings"]
    for entry in entries:
        tag = entry["image"].rpartition(":")[2]
        assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), entry["image"]
