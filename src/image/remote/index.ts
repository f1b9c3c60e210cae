/**
 * OCI distribution client: push and pull images to and from registries
 * (distribution-spec v1.1, Docker registry API v2), with docker/podman
 * credentials, bearer tokens, retries, cross-repository mounts and chunked,
 * resumable uploads. Talks to the image store only through BlobSource/BlobSink.
 */
export {
  parseReference,
  formatReference,
  familiarReference,
  manifestReference,
  endpointHost,
  InvalidReferenceError,
  DOCKER_HUB,
  type ImageReference,
} from "./reference.js";
export {
  Credential,
  findCredential,
  credentialFiles,
  runCredentialHelper,
  type CredentialKind,
  type CredentialLookupOptions,
} from "./credentials.js";
export { RegistryClient, type RegistryOptions, type RetryEvent, type FetchFunction } from "./client.js";
export { RegistryError, RegistryAuthError, type RegistryErrorEntry } from "./errors.js";
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";
export { BlobSourceError } from "./byte-reader.js";
export {
  pushBlob,
  blobExists,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MONOLITHIC_MAX_BYTES,
  type BlobSource,
  type BlobProgress,
  type UploadOptions,
} from "./upload.js";
export {
  pushImage,
  pushManifest,
  DEFAULT_PUSH_JOBS,
  type PushImageInput,
  type PushOptions,
  type PushResult,
  type PushProgress,
  type PushedBlob,
} from "./push.js";
export {
  pullImage,
  selectManifest,
  parsePlatform,
  formatPlatform,
  DEFAULT_PULL_JOBS,
  type BlobSink,
  type PullOptions,
  type PulledImage,
  type PullProgress,
} from "./pull.js";
export { MANIFEST_ACCEPT } from "./manifest.js";
