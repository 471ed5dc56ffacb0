"""The drug catalogue lives in `triggerpoint.catalogues.drugs` (below screening, which reads it too).

Kept so the procedures modules that name `procedures.drugs` keep importing the same objects.
"""

from triggerpoint.catalogues.drugs import (
    LOCAL_ANESTHETIC_CLASSES,
    Drug,
    DrugCatalog,
    build_catalog,
    load_drugs,
)

__all__ = ["LOCAL_ANESTHETIC_CLASSES", "Drug", "DrugCatalog", "build_catalog", "load_drugs"]
