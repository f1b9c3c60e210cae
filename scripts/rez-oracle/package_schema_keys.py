#!/usr/bin/env python3
"""The attribute names Rez's Package and Variant wrappers know, so an absent one reads as None.

Run with Rez importable (Rez is not in CI, so the output is committed):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/package_schema_keys.py > test/data/rez-package-schema-keys.json

Rez builds `Package.keys` from `package_schema` and `Variant.keys` from
`variant_schema` (src/rez/packages.py, `schema_keys`); AttributeForwardMeta
turns each key into a property that reads None when the definition lacks it.
Both schemas copy `package_base_schema_dict` (src/rez/package_resources.py);
the package's adds `variants`. The test (src/rex/schema-keys.test.ts) checks
that src/rex/values.ts derives the same two sets.
"""
import json
import sys

from rez.package_resources import package_base_schema_dict, package_schema, variant_schema
from rez.packages import Package, Variant
from rez.utils.schema import schema_keys
from rez.vendor.schema.schema import Schema

json.dump(
    {
        "package_base_schema": sorted(schema_keys(Schema(package_base_schema_dict))),
        "package_schema": sorted(schema_keys(package_schema)),
        "variant_schema": sorted(schema_keys(variant_schema)),
        "Package.keys": sorted(Package.keys),
        "Variant.keys": sorted(Variant.keys),
    },
    sys.stdout,
    indent=2,
)
print()
