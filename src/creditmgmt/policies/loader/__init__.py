"""Load: a rule-set document read from YAML or JSON into the typed model, with positions.

`document` reads the text, checks it against the published schema and builds the model block
by block; `nodes` reads typed values from the document's nodes (every error names the node's
file:line:column); `schema` holds the JSON Schema and the content hash that names the exact
text.
"""

from creditmgmt.policies.loader.document import read_document
from creditmgmt.policies.loader.schema import canonical_hash, json_schema

__all__ = ["canonical_hash", "json_schema", "read_document"]
