// tantalus.yaml: the schema, loading with file:line errors, and the JSON Schema.
export {
  TantalusConfigSchema,
  configJsonSchema,
  type TantalusConfig,
  type TantalusConfigInput,
  type WorkflowConfig,
  type MountConfig,
  type PackageOverride,
  type RunConfig,
  type LayersConfig,
} from "./schema.js";
export {
  CONFIG_FILENAME,
  ConfigError,
  formatConfigPath,
  getWorkflow,
  loadConfig,
  mountSource,
  parseConfig,
  resolveConfigPath,
  type ConfigIssue,
  type ConfigPath,
  type LoadedConfig,
} from "./load.js";
