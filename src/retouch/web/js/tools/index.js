// The tool panels, in sidebar order. A tool is this one module (its panel and what it sends) plus one server
// endpoint, POST /api/<name>.
import { createCleanup } from "./cleanup.js";
import { createDetext } from "./detext.js";
import { createRestore } from "./restore.js";
import { createCutout, createReplaceBg } from "./cutout.js";
import { createUpscale } from "./upscale.js";
import { createRelight } from "./relight.js";
import { createGenerate } from "./generate.js";
import { createUncrop } from "./uncrop.js";
import { createReimagine } from "./reimagine.js";

export const TOOL_FACTORIES = [createCleanup, createDetext, createRestore, createCutout, createReplaceBg, createUpscale, createRelight,
  createUncrop, createReimagine, createGenerate];
