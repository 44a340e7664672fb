"""creditmgmt.adapters."""
