from __future__ import annotations

from creditmgmt.testing.lifecycle import FacilityLifecycle

TestFacilityLifecycle = FacilityLifecycle.TestCase
