/**
 * The attributes Rez's Package and Variant know by name, so that one a
 * definition does not set reads as None (`this.tools`, `resolve.foo.uuid`)
 * instead of raising AttributeError as an unknown name does.
 *
 * Rez 3.4 builds them from its schemas (src/rez/package_resources.py):
 * `variant_schema_dict` is a copy of `package_base_schema_dict`, and
 * `package_schema_dict` is that copy plus `variants` (which cannot be late
 * bound). `Package.keys` and `Variant.keys` are their `schema_keys`
 * (src/rez/packages.py; Variant adds index, root and subpath, which the
 * binding computes), and AttributeForwardMeta turns each into a property that
 * reads None when absent. test/data/rez-package-schema-keys.json records
 * them from Rez (scripts/rez-oracle/package_schema_keys.py).
 */

/** `package_base_schema_dict`'s keys: what a variant knows. */
export const VARIANT_SCHEMA_KEYS: ReadonlySet<string> = new Set([
  "name",
  "base",
  "version",
  "description",
  "authors",
  "requires",
  "build_requires",
  "private_build_requires",
  "has_plugins",
  "plugin_for",
  "uuid",
  "config",
  "tools",
  "help",
  "hashed_variants",
  "relocatable",
  "cachable",
  "tests",
  "pre_commands",
  "commands",
  "post_commands",
  "pre_build_commands",
  "pre_test_commands",
  "timestamp",
  "revision",
  "changelog",
  "release_message",
  "previous_version",
  "previous_revision",
  "vcs",
]);

/** `package_schema_dict`'s keys: the variant's plus `variants`. */
export const PACKAGE_SCHEMA_KEYS: ReadonlySet<string> = new Set([...VARIANT_SCHEMA_KEYS, "variants"]);
