/**
 * OCI image-spec v1.1 data model (manifest, index, config, descriptor) and the
 * media types we read and write. Docker v2 schema2 media types are accepted on
 * input because registries and `docker save` still produce them; we always
 * write OCI media types.
 */
import type { Digest } from "./digest.js";

export const MediaType = {
  // OCI
  ImageManifest: "application/vnd.oci.image.manifest.v1+json",
  ImageIndex: "application/vnd.oci.image.index.v1+json",
  ImageConfig: "application/vnd.oci.image.config.v1+json",
  Layer: "application/vnd.oci.image.layer.v1.tar",
  LayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  LayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  LayoutHeader: "application/vnd.oci.layout.header.v1+json",
  // Docker v2 schema2
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

/** Annotation keys from image-spec `annotations.md` that we set or read. */
export const Annotation = {
  RefName: "org.opencontainers.image.ref.name",
  Created: "org.opencontainers.image.created",
  Title: "org.opencontainers.image.title",
  Description: "org.opencontainers.image.description",
  Version: "org.opencontainers.image.version",
  Revision: "org.opencontainers.image.revision",
  Source: "org.opencontainers.image.source",
  Vendor: "org.opencontainers.image.vendor",
  BaseDigest: "org.opencontainers.image.base.digest",
  BaseName: "org.opencontainers.image.base.name",
} as const;

export type LayerCompression = "gzip" | "zstd" | "none";

export interface Platform {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The runtime part of an image config (`config` key of config.md). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: Digest[] };
  history?: HistoryEntry[];
  /** Docker configs carry more keys (container_config, docker_version…); kept verbatim. */
  [extra: string]: unknown;
}

/** A layer as the store knows it: the stored blob plus the digest of its uncompressed tar. */
export interface LayerDescriptor extends Descriptor {
  diffId: Digest;
}

/** Everything needed to reuse an image as a base: its manifest, config and their descriptors. */
export interface ResolvedImage {
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  /** Raw config bytes: re-serialising could change the digest of a foreign config. */
  configBytes: Buffer;
}

export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ImageManifest || mt === MediaType.DockerManifest;
}

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ImageIndex || mt === MediaType.DockerManifestList;
}

/** Which compression a layer media type implies, or undefined if it is not a layer type we know. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  switch (mediaType) {
    case MediaType.Layer:
    case MediaType.DockerLayer:
      return "none";
    case MediaType.LayerGzip:
    case MediaType.DockerLayerGzip:
    case MediaType.DockerForeignLayerGzip:
      return "gzip";
    case MediaType.LayerZstd:
      return "zstd";
    default:
      return undefined;
  }
}

export function layerMediaType(compression: LayerCompression): string {
  switch (compression) {
    case "gzip":
      return MediaType.LayerGzip;
    case "zstd":
      return MediaType.LayerZstd;
    case "none":
      return MediaType.Layer;
  }
}

/** Runtime platform of the host in OCI terms (GOARCH names). */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = {
    x64: "amd64",
    arm64: "arm64",
    arm: "arm",
    ppc64: "ppc64le",
    s390x: "s390x",
    riscv64: "riscv64",
  };
  return { architecture: arch[process.arch] ?? process.arch, os: "linux" };
}
