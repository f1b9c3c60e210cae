import { InputError, type SourceLocation } from "../../errors.js";

/** A version or version range string that Rez would reject (Rez's `VersionError`). */
export class VersionError extends InputError {}

/**
 * A requirement string that Rez would reject. Rez raises `VersionError` for a bad
 * range inside a requirement and `PackageRequestError` for a bad package name;
 * both surface here with the whole requirement text and what was expected.
 */
export class RequirementError extends InputError {
  readonly text: string;

  constructor(text: string, expected: string, location?: SourceLocation) {
    super(`invalid requirement '${text}': ${expected}`, location);
    this.text = text;
  }
}
