"""Suite-wide settings: Hypothesis profiles (`dev` quick by default, `ci` deeper when CI=true,
`soak` by hand with HYPOTHESIS_PROFILE=soak)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
    print_blob=True,
)
# by hand, before a release or after a change to a rule engine: HYPOTHESIS_PROFILE=soak
settings.register_profile(
    "soak",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
    print_blob=True,
)


def _profile(env: Mapping[str, str]) -> str:
    """`HYPOTHESIS_PROFILE` wins; otherwise `ci` when CI is set to a true value, else `dev`."""
    explicit = env.get("HYPOTHESIS_PROFILE")
    if explicit:
        return explicit
    ci = env.get("CI", "").strip().lower()
    return "ci" if ci in {"1", "true", "yes", "on"} else "dev"


settings.load_profile(_profile(os.environ))
