// Rez's PACKAGE_NAME_REGSTR (rez/utils/formatting.py), anchored.
const PACKAGE_NAME = /^[a-zA-Z_0-9](\.?[a-zA-Z0-9_]+)*$/;

export function isValidPackageName(name: string): boolean {
  return PACKAGE_NAME.test(name);
}
