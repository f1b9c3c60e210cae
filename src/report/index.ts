/** `tantalus report`: the studio's workflows, layers, resolves, audits and images as a static web site. */
export { collectReport, type CollectOptions, type CollectResult } from "./collect.js";
export { reportData, resolveGraph, storeHistory, type ReportData, type ResolveGraph, type ImageView } from "./data.js";
export { writeSite, checkReportTarget, REPORT_MARKER, type WrittenSite } from "./site.js";
export { renderPages } from "./pages.js";
