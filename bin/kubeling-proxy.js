#!/usr/bin/env node
// kubeling-proxy: see launch.js (compiled build when present, else the sources through tsx).
import { launch } from "./launch.js";

await launch("proxy");
