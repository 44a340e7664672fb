"""The daily monitoring run: `MonitoringCalls.run_daily` (see `run`), the per-customer
assessment (`assess`) and what the run reports (`summary`)."""

from creditmgmt.services.monitoring.assess import MonitoringError, RunSettings
from creditmgmt.services.monitoring.run import BatchDone, MonitoringCalls, RunLog
from creditmgmt.services.monitoring.summary import (
    CategoryTotal,
    DailyRunSummary,
    RunError,
    partition_key,
    partition_of,
)

__all__ = [
    "BatchDone",
    "CategoryTotal",
    "DailyRunSummary",
    "MonitoringCalls",
    "MonitoringError",
    "RunError",
    "RunLog",
    "RunSettings",
    "partition_key",
    "partition_of",
]
