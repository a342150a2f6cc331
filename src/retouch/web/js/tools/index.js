// The tool panels, in sidebar order. A tool is this one module (its panel and what it sends) plus one server
// endpoint, POST /api/<name>.
import { createCleanup } from "./cleanup.js";

export const TOOL_FACTORIES = [createCleanup];
