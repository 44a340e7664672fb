"""creditmgmt — credit customer management (授信客户管理) as an embeddable library.

Nothing happens at import time: no connection, no file, no clock read. Start from
`creditmgmt.domain` (the pure model), `creditmgmt.policies` (rule sets) and the storage
adapters under `creditmgmt.adapters`.
"""

from creditmgmt._version import __version__

__all__ = ["__version__"]
