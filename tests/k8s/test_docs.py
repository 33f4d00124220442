"""docs/katib.md names only images, files and settings that exist, as deploy/ has them."""

from __future__ import annotations

import re
import textwrap

import yaml

from katib_nas.manifests.trial_images import SUGGESTION_IMAGES, TRIAL_IMAGES
from tests.k8s.manifest_files import REPO_ROOT

GUIDE = (REPO_ROOT / "docs" / "katib.md").read_text()
OUR_IMAGE = re.compile(r"ghcr\.io/katib-nas/[a-z-]+:[\w.]+")
REPO_PATH = re.compile(
    r"\b((?:deploy|examples|trial_images|scripts)/[\w./-]+\.\w+|Dockerfile\.\w+)"
)


def test_every_katib_nas_image_in_the_guide_is_one_we_publish() -> None:
    published = set(SUGGESTION_IMAGES.values()) | {i.reference for i in TRIAL_IMAGES.values()}

    named = set(OUR_IMAGE.findall(GUIDE))

    assert named == published


def test_every_repository_file_the_guide_names_exists() -> None:
    named = {path.rstrip(".") for path in REPO_PATH.findall(GUIDE)}

    missing = sorted(path for path in named if not (REPO_ROOT / path).exists())

    assert len(named) > 5
    assert missing == []


def test_the_katib_config_snippet_in_the_guide_matches_deploy() -> None:
    block = GUIDE.split("change\nonly the two suggestion entries:\n\n```yaml\n", 1)[1]
    entries = yaml.safe_load(textwrap.dedent(block.split("```", 1)[0]))
    deployed = yaml.safe_load((REPO_ROOT / "deploy" / "katib-config.yaml").read_text())
    by_name = {e["algorithmName"]: e for e in deployed["runtime"]["suggestions"]}

    assert [e["algorithmName"] for e in entries] == ["enas", "darts"]
    for entry in entries:
        assert entry == by_name[entry["algorithmName"]]
