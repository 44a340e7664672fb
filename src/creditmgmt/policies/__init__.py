"""creditmgmt.policies."""
