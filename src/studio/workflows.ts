import type { WorkflowSpec } from "./model.js";

/**
 * The artist workflows of the sample studio, as Rez requests. Most share the
 * CY2024 stack (python 3.11, USD 24, OpenEXR 3.2) so layer sharing between
 * images can be measured; modeling and comp stay on CY2023 as shows pinned
 * to older tools do; review, rough_layout and legacy_comp carry the defects.
 */
export const PROJECTS_MOUNT = { source: "projects", target: "/studio/projects", readonly: true };

export const STUDIO_WORKFLOWS: WorkflowSpec[] = [
  {
    name: "rough_layout",
    description: "Rough layout in Maya 2025 with the layout toolset",
    request: ["launch_app", "layout_tools", "maya-2025", "studio_assets", "show_config"],
    env: { STUDIO_DEPARTMENT: "layout" },
    mounts: [PROJECTS_MOUNT],
  },
  {
    name: "animation",
    description: "Character animation in Maya 2025",
    request: ["launch_app", "anim_tools", "maya-2025", "studio_assets", "show_config"],
    env: { STUDIO_DEPARTMENT: "animation" },
    mounts: [PROJECTS_MOUNT],
  },
  {
    name: "modeling",
    description: "Asset modeling in Maya 2024 for shows still on the 2023 configuration",
    request: ["launch_app", "modeling_tools", "maya-2024", "studio_assets", "show_config-2023"],
    env: { STUDIO_DEPARTMENT: "modeling" },
    mounts: [PROJECTS_MOUNT],
  },
  {
    name: "lookdev",
    description: "Look development in Maya 2025 with Photon and MaterialX",
    request: ["launch_app", "lookdev_tools", "maya-2025", "photon", "studio_assets", "show_config"],
    env: { STUDIO_DEPARTMENT: "lookdev" },
    mounts: [PROJECTS_MOUNT],
  },
  {
    name: "lighting",
    description: "Shot lighting in Houdini 20.5 rendered with Photon",
    request: ["launch_app", "lighting_tools", "houdini-20.5", "photon", "studio_assets", "show_config"],
    env: { STUDIO_DEPARTMENT: "lighting" },
    mounts: [PROJECTS_MOUNT],
  },
  {
    name: "fx",
    description: "FX simulation in Houdini 20.5 with OpenVDB tools",
    request: ["launch_app", "fx_tools", "houdini-20.5", "studio_assets", "show_config"],
    env: { STUDIO_DEPARTMENT: "fx" },
    mounts: [PROJECTS_MOUNT],
  },
  {
    name: "comp",
    description: "Compositing in Nuke 15",
    request: ["launch_app", "comp_tools", "nuke-15", "show_config"],
    env: { STUDIO_DEPARTMENT: "comp" },
    mounts: [PROJECTS_MOUNT],
  },
  {
    name: "render",
    description: "Farm rendering with Photon (no DCC)",
    request: ["launch_app", "render_submit", "photon", "studio_assets", "show_config"],
    env: { STUDIO_DEPARTMENT: "render" },
    mounts: [PROJECTS_MOUNT],
  },
  {
    name: "review",
    description: "Dailies review with the flipbook viewer",
    request: ["launch_app", "flipbook", "show_config"],
    env: { STUDIO_DEPARTMENT: "review" },
    mounts: [PROJECTS_MOUNT],
  },
  {
    name: "legacy_comp",
    description: "Compositing in Nuke 14 with the legacy OpenEXR 2 reader, for a show on the 2023 configuration",
    request: ["launch_app", "nuke-14", "legacy_exr_plugin", "show_config-2023"],
    env: { STUDIO_DEPARTMENT: "comp" },
    mounts: [PROJECTS_MOUNT],
  },
];
