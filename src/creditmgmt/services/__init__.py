"""creditmgmt.services."""
